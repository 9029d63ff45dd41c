import type { Readable, Writable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { Deps } from '../app/deps.js';
import { tryParseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { REASONS, type SuppressionReason } from '../domain/suppression-rules.js';
import { suppressionsRepo, type SuppressionFilter } from '../store/suppressions-repo.js';
import type { SuppressionEntryInput, SuppressionsCore } from './suppressions.js';

const COLUMNS = ['address', 'scope', 'list_id', 'reason', 'source', 'note', 'created_at'];

/** Streams the ledger as CSV in keyset pages: flat memory for any size (issue 4 item 2). */
export async function exportSuppressionsCsv(deps: Deps, accountId: string, f: Omit<SuppressionFilter, 'limit' | 'after'>, out: Writable): Promise<number> {
  const repo = suppressionsRepo(deps.store);
  const csv = stringify({ header: true, columns: COLUMNS });
  csv.pipe(out);
  let after = 0;
  let n = 0;
  for (;;) {
    const page = await repo.search(accountId, { ...f, after, limit: 5000 });
    for (const e of page) {
      n++;
      if (!csv.write([e.address_key, e.scope, e.list_id, e.reason, e.source, e.note ?? '', new Date(e.created_at).toISOString()])) await new Promise((r) => csv.once('drain', r));
    }
    if (page.length < 5000) break;
    after = Number(page[page.length - 1].id);
  }
  csv.end();
  await new Promise((r) => out.once('finish', r));
  return n;
}

/** Summary of a ledger import. */
export interface SuppressionImportSummary {
  total: number;
  added: number;
  existing: number;
  rejected_count: number;
  rejected: Array<{ line: number; reason: string }>;
}

/**
 * Streams a CSV into the ledger (columns address/email, and optional scope, list_id, reason,
 * note). Idempotent: existing entries are counted, not duplicated. Batches of 1,000 commit whole.
 */
export async function importSuppressionsCsv(core: SuppressionsCore, accountId: string, input: Readable, ctx: { source: string }): Promise<SuppressionImportSummary> {
  const s: SuppressionImportSummary = { total: 0, added: 0, existing: 0, rejected_count: 0, rejected: [] };
  const reject = (line: number, reason: string) => {
    s.rejected_count++;
    if (s.rejected.length < 10_000) s.rejected.push({ line, reason });
  };
  let addrCol = '';
  const parser = parse({
    columns: (h: string[]) => {
      const cols = h.map((c) => c.replace(/^\uFEFF/, '').trim().toLowerCase());
      addrCol = cols.find((c) => c === 'address' || c === 'email' || c === 'e-mail') ?? '';
      if (!addrCol) fail('E_CSV', 'no address column: the header needs address or email');
      return cols;
    },
    bom: true, info: true, skip_empty_lines: true, trim: true, skip_records_with_error: true, relax_column_count: true,
  });
  parser.on('skip', (err: Error & { lines?: number }) => { s.total++; reject(err.lines ?? 0, `unreadable CSV row: ${err.message.split('\n')[0]}`); });
  input.pipe(parser);
  let batch: SuppressionEntryInput[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const r = await core.add(accountId, batch, { source: ctx.source });
    s.added += r.added;
    s.existing += r.existing;
    batch = [];
  };
  for await (const { info, record } of parser as AsyncIterable<{ info: { lines: number }; record: Record<string, string> }>) {
    s.total++;
    const reason = (record.reason || 'manual') as SuppressionReason;
    const scope = (record.scope || 'account') as 'account' | 'list';
    if (!REASONS.includes(reason)) { reject(info.lines, `unknown reason ${reason}`); continue; }
    if (scope !== 'account' && scope !== 'list') { reject(info.lines, `unknown scope ${scope}`); continue; }
    if (scope === 'list' && !record.list_id) { reject(info.lines, 'list scope needs list_id'); continue; }
    const p = tryParseAddress(record[addrCol] ?? '');
    if (!p.ok && reason !== 'invalid') { reject(info.lines, p.reason); continue; }
    batch.push({ address: record[addrCol], scope, listId: record.list_id || undefined, reason, note: record.note || undefined });
    if (batch.length >= 1000) await flush();
  }
  await flush();
  return s;
}
