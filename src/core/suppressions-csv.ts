import type { Readable, Writable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { Deps } from '../app/deps.js';
import { fail, TegamiError } from '../domain/errors.js';
import { suppressionsRepo, type NewEntry, type SuppressionFilter } from '../store/suppressions-repo.js';
import { decodeCsvStream } from './csv-decode.js';
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
  encoding: string;
  total: number;
  added: number;
  existing: number;
  rejected_count: number;
  rejected: Array<{ line: number; reason: string }>;
}

const BATCH = 5000;
const MAX_REJECTED = 10_000;
const ADDRESS_COLUMNS = ['address', 'email', 'e-mail', 'email_address', 'メールアドレス'];

/**
 * Streams a CSV into the ledger (an address/email column; optional scope, list_id, reason, note).
 * Idempotent: existing entries are counted, not duplicated. Each batch of 5,000 rows commits
 * whole; a bad row is reported with its line and never written. Memory stays flat: the input is
 * read only while fewer than one batch of rows waits.
 */
export async function importSuppressionsCsv(core: SuppressionsCore, accountId: string, input: Readable, ctx: { source: string }): Promise<SuppressionImportSummary> {
  const s: SuppressionImportSummary = { encoding: 'utf-8', total: 0, added: 0, existing: 0, rejected_count: 0, rejected: [] };
  const reject = (line: number, reason: string) => {
    s.rejected_count++;
    if (s.rejected.length < MAX_REJECTED) s.rejected.push({ line, reason });
  };
  // Arrays, no `info`: csv-parse's per-record info object doubles its cost; in flowing mode
  // 'data' fires while the parser sits at the record's end, so `parser.info.lines` is its line.
  const parser = parse({ bom: true, skip_empty_lines: true, skip_records_with_error: true, relax_column_count: true, max_record_size: 64 * 1024 });
  let cols: { addr: number; scope: number; list: number; reason: number; note: number } | null = null;
  let rows: NewEntry[] = [];
  let failed: unknown = null;
  parser.on('skip', (err: Error & { lines?: number }) => { s.total++; reject(err.lines ?? 0, `unreadable CSV row: ${err.message.split('\n')[0]}`); });
  parser.on('error', (err) => { failed ??= new TegamiError('E_CSV', err.message.split('\n')[0]); });
  parser.on('data', (rec: string[]) => {
    try {
      if (!cols) return void (cols = header(rec));
      s.total++;
      const line = parser.info.lines;
      const at = (i: number) => (i >= 0 ? (rec[i] ?? '').trim() : '');
      const r = core.prepare({ address: at(cols.addr), scope: (at(cols.scope) || 'account') as 'account', listId: at(cols.list) || undefined, reason: at(cols.reason) || 'manual', note: at(cols.note) || undefined });
      if (r.ok) rows.push(r.row);
      else reject(line, r.reason);
    } catch (e) {
      failed ??= e;
    }
  });
  const flush = async () => {
    if (!rows.length) return;
    const batch = rows;
    rows = [];
    const r = await core.addPrepared(accountId, batch, { source: ctx.source });
    s.added += r.added;
    s.existing += r.existing;
  };
  const { text, encoding } = decodeCsvStream(input);
  for await (const chunk of text) {
    if (failed) break;
    parser.write(chunk);
    if (rows.length >= BATCH) await flush();
  }
  if (!failed) await new Promise<void>((res) => { parser.once('error', () => res()); parser.end(() => res()); });
  if (failed) {
    input.destroy();
    throw failed instanceof Error ? failed : new Error(String(failed));
  }
  if (!cols) fail('E_CSV', 'the file is empty: a header with an address or email column is needed');
  await flush();
  s.encoding = await encoding;
  return s;
}

/** Column positions from the header row; the address column is required. */
function header(rec: string[]) {
  const names = rec.map((c) => c.replace(/^\uFEFF/, '').trim().toLowerCase());
  const addr = names.findIndex((c) => ADDRESS_COLUMNS.includes(c));
  if (addr < 0) fail('E_CSV', `no address column: the header needs one of ${ADDRESS_COLUMNS.join(', ')}`);
  return { addr, scope: names.indexOf('scope'), list: names.indexOf('list_id'), reason: names.indexOf('reason'), note: names.indexOf('note') };
}
