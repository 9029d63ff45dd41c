import type { Readable, Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Deps } from '../app/deps.js';
import { suppressionsRepo, type SuppressionFilter } from '../store/suppressions-repo.js';
import type { ImportBatch } from '../store/suppression-import-batch.js';
import { decodeCsvStream } from './csv-decode.js';
import { IMPORT_HEARTBEAT_MS } from './suppression-imports.js';
import { joinSummaries, SuppressionCsvParser, type ParseSummary } from './suppressions-csv-parse.js';
import { startParseThread, type ParseThread } from './suppressions-parse-thread.js';
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

/** Inputs up to this many characters are parsed on the main thread only (no thread to start). */
const INLINE_CHARS = 1 << 20;
/** Parsed batches waiting to be written: flat memory. */
const MAX_BATCHES_WAITING = 3;

/**
 * Streams a CSV into the ledger (an address/email column; optional scope, list_id, reason, note).
 * Idempotent: existing entries are counted, not duplicated, never changed (R-UNSUB-12). Each
 * batch of 5,000 rows commits whole; a bad row is reported with its line and never written. The
 * main thread parses from the start; past INLINE_CHARS it starts a parse thread and, once that has
 * loaded, hands it the parse at a chunk boundary (SuppressionCsvParser.handOff): from then on the
 * thread parses and validates while the main thread writes the previous batch (pipelined). Where
 * csv-parse has to take over from the plain-text path before the thread is ready, the main thread
 * stops parsing and waits for it, so a quoted file is parsed on the thread as well. Memory stays
 * flat: only a few chunks and batches are ever in flight. The import writes one audit row
 * (suppression_imports) and tags its ledger entries with its id instead of one history row per
 * address (docs/suppressions.md).
 */
export async function importSuppressionsCsv(core: SuppressionsCore, accountId: string, input: Readable, ctx: { source: string; ip?: string; userAgent?: string }): Promise<SuppressionImportSummary> {
  const importId = await core.beginImport(accountId, ctx);
  // Alive between batches too (a slow upload); a lost process stops it and the import reads interrupted.
  const heartbeat = setInterval(() => { core.touchImport(importId).catch(() => {}); }, IMPORT_HEARTBEAT_MS).unref();
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
  const room = () => writeErr !== null || waiting < MAX_BATCHES_WAITING;
  const inline = new SuppressionCsvParser(onBatch, { pause: true });
  let thread: ParseThread | null = null;
  let onThread = false;
  try {
    const { text, encoding } = decodeCsvStream(input);
    // The decoded strings as they are (without this the stream hands them on re-encoded as UTF-8 bytes).
    text.setEncoding('utf8');
    let chars = 0;
    for await (const chunk of text) {
      if (writeErr) break;
      if (onThread) {
        await thread!.send(chunk, room, until);
        continue;
      }
      chars += chunk.length;
      if (!thread && chars > INLINE_CHARS) thread = startParseThread(onBatch, wake);
      if (thread && (thread.ready() || inline.paused)) {
        await thread.whenReady(until);
        const state = inline.handOff();
        if (!state) throw new Error('suppression import: the parse could not be handed to its thread');
        thread.start(state);
        onThread = true;
        await thread.send(chunk, room, until);
        continue;
      }
      await until(room);
      inline.write(chunk);
    }
    let parsed: ParseSummary;
    if (writeErr) parsed = { total: 0, rejected_count: 0, rejected: [], header: true };
    else if (onThread) parsed = joinSummaries(inline.summary, await thread!.end(until));
    else {
      // The whole input parsed here (a thread that was still loading is not needed).
      inline.unpause();
      parsed = await inline.end();
    }
    await writing;
    if (writeErr) throw writeErr;
    Object.assign(s, { total: parsed.total, rejected_count: parsed.rejected_count, rejected: parsed.rejected, encoding: await encoding });
    await core.finishImport(importId, { status: 'done', encoding: s.encoding, total: s.total, rejected_count: s.rejected_count });
    return s;
  } catch (e) {
    input.destroy();
    await writing;
    // Batches committed before the failure stay (each is whole); the audit row says how far it got.
    await core.finishImport(importId, { status: 'failed', total: s.total, rejected_count: s.rejected_count, error: String((e as Error)?.message ?? e).slice(0, 500) }).catch(() => {});
    throw e;
  } finally {
    clearInterval(heartbeat);
    await thread?.close();
  }
}
