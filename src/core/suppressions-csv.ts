import type { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { stringify } from 'csv-stringify';
import type { Deps } from '../app/deps.js';
import { TegamiError, type ErrorCode } from '../domain/errors.js';
import { suppressionsRepo, type SuppressionFilter } from '../store/suppressions-repo.js';
import type { ImportBatch } from '../store/suppression-import-batch.js';
import { decodeCsvStream } from './csv-decode.js';
import { SuppressionCsvParser, type ParseSummary } from './suppressions-csv-parse.js';
import type { SuppressionsCore } from './suppressions.js';

const COLUMNS = ['address', 'scope', 'list_id', 'reason', 'source', 'note', 'created_at'];

/**
 * Streams the ledger as CSV in keyset pages: flat memory for any size (issue 4 item 2). Stops
 * early, without error, when `out` is closed (a client that went away).
 */
export async function exportSuppressionsCsv(deps: Deps, accountId: string, f: Omit<SuppressionFilter, 'limit' | 'after'>, out: Writable): Promise<number> {
  const repo = suppressionsRepo(deps.store);
  const csv = stringify({ header: true, columns: COLUMNS });
  let gone = false;
  const closed = new Promise<void>((r) => out.once('close', () => { gone = true; r(); }));
  csv.pipe(out);
  let after = 0;
  let n = 0;
  while (!gone) {
    const page = await repo.search(accountId, { ...f, after, limit: 5000 });
    for (const e of page) {
      n++;
      const more = csv.write([e.address_key, e.scope, e.list_id, e.reason, e.source, e.note ?? '', new Date(e.created_at).toISOString()]);
      if (!more) await Promise.race([new Promise((r) => csv.once('drain', r)), closed]);
      if (gone) break;
    }
    if (page.length < 5000) break;
    after = Number(page[page.length - 1].id);
  }
  if (gone) {
    csv.destroy();
    return n;
  }
  csv.end();
  await Promise.race([new Promise((r) => out.once('finish', r)), closed]);
  return n;
}

/** Summary of a ledger import. */
export interface SuppressionImportSummary {
  /** The import's audit row (GET /v1/suppressions/:address shows its entries' adds with this id). */
  import_id: string;
  encoding: string;
  total: number;
  added: number;
  existing: number;
  rejected_count: number;
  rejected: Array<{ line: number; reason: string }>;
}

/** Inputs up to this many characters parse inline; larger ones on a parse thread of their own. */
const INLINE_CHARS = 1 << 20;
/** Text chunks in flight to the parse thread, and parsed batches waiting to be written: flat memory. */
const MAX_CHUNKS_IN_FLIGHT = 16;
const MAX_BATCHES_WAITING = 3;

/**
 * Streams a CSV into the ledger (an address/email column; optional scope, list_id, reason, note).
 * Idempotent: existing entries are counted, not duplicated. Each batch of 5,000 rows commits
 * whole; a bad row is reported with its line and never written. A large input is parsed and
 * validated on a thread of its own while the main thread writes the previous batch (pipelined);
 * memory stays flat: only a few chunks and batches are ever in flight. The import writes one audit
 * row (suppression_imports) and tags its ledger entries with its id instead of one history row
 * per address (docs/suppressions.md).
 */
export async function importSuppressionsCsv(core: SuppressionsCore, accountId: string, input: Readable, ctx: { source: string; ip?: string; userAgent?: string }): Promise<SuppressionImportSummary> {
  const importId = await core.beginImport(accountId, ctx);
  const s: SuppressionImportSummary = { import_id: importId, encoding: 'utf-8', total: 0, added: 0, existing: 0, rejected_count: 0, rejected: [] };
  let writeErr: unknown = null;
  let waiting = 0;
  let writing: Promise<void> = Promise.resolve();
  const wakers: Array<() => void> = [];
  const wake = () => { for (const w of wakers.splice(0)) w(); };
  const onBatch = (batch: ImportBatch) => {
    waiting++;
    writing = writing.then(async () => {
      try {
        if (writeErr) return;
        const added = await core.importBatch(accountId, importId, batch, ctx.source);
        s.added += added;
        s.existing += batch.count - added;
      } catch (e) {
        writeErr ??= e;
      } finally {
        waiting--;
        wake();
      }
    });
  };
  const until = async (ok: () => boolean) => { while (!ok()) await new Promise<void>((r) => wakers.push(r)); };
  let thread: ParseThread | null = null;
  try {
    const { text, encoding } = decodeCsvStream(input);
    // The decoded strings as they are (without this the stream hands them on re-encoded as UTF-8 bytes).
    text.setEncoding('utf8');
    let buffered: string[] = [];
    let bufferedChars = 0;
    for await (const chunk of text) {
      if (writeErr) break;
      if (!thread) {
        buffered.push(chunk);
        bufferedChars += chunk.length;
        if (bufferedChars < INLINE_CHARS) continue;
        thread = startParseThread(onBatch, wake);
        for (const c of buffered) await thread.send(c, () => waiting < MAX_BATCHES_WAITING, until);
        buffered = [];
        continue;
      }
      await thread.send(chunk, () => waiting < MAX_BATCHES_WAITING, until);
    }
    let parsed: ParseSummary;
    if (writeErr) parsed = { total: 0, rejected_count: 0, rejected: [], header: true };
    else if (thread) parsed = await thread.end(until);
    else {
      // A small input: parse inline, no thread to start.
      const p = new SuppressionCsvParser(onBatch);
      for (const c of buffered) p.write(c);
      parsed = await p.end();
    }
    await writing;
    if (writeErr) throw writeErr;
    Object.assign(s, { total: parsed.total, rejected_count: parsed.rejected_count, rejected: parsed.rejected, encoding: await encoding });
    await core.finishImport(importId, { status: 'done', encoding: s.encoding, total: s.total, added: s.added, existing: s.existing, rejected_count: s.rejected_count });
    return s;
  } catch (e) {
    input.destroy();
    await writing;
    // Batches committed before the failure stay (each is whole); the audit row says how far it got.
    await core.finishImport(importId, { status: 'failed', total: s.total, added: s.added, existing: s.existing, rejected_count: s.rejected_count, error: String((e as Error)?.message ?? e).slice(0, 500) }).catch(() => {});
    throw e;
  } finally {
    await thread?.close();
  }
}

interface ParseThread {
  /** Posts a chunk once fewer than MAX_CHUNKS_IN_FLIGHT are unparsed and `room()` holds. */
  send(chunk: string, room: () => boolean, until: (ok: () => boolean) => Promise<void>): Promise<void>;
  /** Ends the input; resolves with the parse summary after the last batch was handed out. */
  end(until: (ok: () => boolean) => Promise<void>): Promise<ParseSummary>;
  close(): Promise<void>;
}

/** Starts the parse thread (src/core/suppressions-import-thread.ts). */
function startParseThread(onBatch: (batch: ImportBatch) => void, wake: () => void): ParseThread {
  const worker = new Worker(new URL('./suppressions-import-thread-boot.mjs', import.meta.url));
  let inFlight = 0;
  let failed: Error | null = null;
  let summary: ParseSummary | null = null;
  const fail = (e: Error) => { failed ??= e; wake(); };
  worker.on('message', (m: { batch?: ImportBatch; ack?: boolean; done?: ParseSummary; error?: { code?: string; message: string } }) => {
    if (m.batch !== undefined) onBatch(m.batch);
    else if (m.ack) { inFlight--; wake(); }
    else if (m.done) { summary = m.done; wake(); }
    else if (m.error) fail(m.error.code ? new TegamiError(m.error.code as ErrorCode, m.error.message) : new Error(m.error.message));
  });
  worker.on('error', (e) => fail(e));
  worker.on('exit', (code) => { if (!summary) fail(new Error(`suppression import parse thread exited with code ${code}`)); });
  return {
    async send(chunk, room, until) {
      await until(() => failed !== null || (inFlight < MAX_CHUNKS_IN_FLIGHT && room()));
      if (failed) throw failed;
      inFlight++;
      worker.postMessage({ chunk });
    },
    async end(until) {
      if (failed) throw failed;
      worker.postMessage({ end: true });
      await until(() => failed !== null || summary !== null);
      if (failed) throw failed;
      return summary!;
    },
    async close() {
      await worker.terminate();
    },
  };
}
