import { parse, type Parser } from 'csv-parse';
import { fail, TegamiError } from '../domain/errors.js';
import { prepareEntry } from './suppression-prepare.js';

/** Rows per write batch (one transaction each). */
export const IMPORT_BATCH = 5000;
const MAX_REJECTED = 10_000;
const ADDRESS_COLUMNS = ['address', 'email', 'e-mail', 'email_address', 'メールアドレス'];

/** What the parse side reports when the input ends. */
export interface ParseSummary { total: number; rejected_count: number; rejected: Array<{ line: number; reason: string }>; header: boolean }

/**
 * The parse half of the suppression CSV import: csv-parse, header, validation and canonical keys
 * (prepareEntry), and batches of IMPORT_BATCH rows handed out as one JSON text each (arrays of
 * [key, scope, list_id, reason, note]: the form the
 * store's set-based insert takes, and a cheap copy between threads). Runs on the import's parse
 * thread, or inline for a small input. A fatal CSV error or a missing address column is thrown
 * (as TegamiError E_CSV) from write/end; a bad row is counted and reported with its line.
 */
export class SuppressionCsvParser {
  private parser: Parser;
  private cols: { addr: number; scope: number; list: number; reason: number; note: number } | null = null;
  private rows: unknown[] = [];
  private failed: unknown = null;
  readonly summary: ParseSummary = { total: 0, rejected_count: 0, rejected: [], header: false };

  constructor(private onBatch: (json: string, count: number) => void) {
    // Arrays, no `info`: csv-parse's per-record info object doubles its cost; in flowing mode
    // 'data' fires while the parser sits at the record's end, so `parser.info.lines` is its line.
    this.parser = parse({ bom: true, skip_empty_lines: true, skip_records_with_error: true, relax_column_count: true, max_record_size: 64 * 1024 });
    this.parser.on('skip', (err: Error & { lines?: number }) => { this.summary.total++; this.reject(err.lines ?? 0, `unreadable CSV row: ${err.message.split('\n')[0]}`); });
    this.parser.on('error', (err) => { this.failed ??= new TegamiError('E_CSV', err.message.split('\n')[0]); });
    this.parser.on('data', (rec: string[]) => this.record(rec));
  }

  private reject(line: number, reason: string) {
    this.summary.rejected_count++;
    if (this.summary.rejected.length < MAX_REJECTED) this.summary.rejected.push({ line, reason });
  }

  private record(rec: string[]) {
    try {
      if (!this.cols) {
        this.cols = header(rec);
        this.summary.header = true;
        return;
      }
      const cols = this.cols;
      this.summary.total++;
      const r = prepareEntry({ address: field(rec, cols.addr), scope: (field(rec, cols.scope) || 'account') as 'account', listId: field(rec, cols.list) || undefined, reason: field(rec, cols.reason) || 'manual', note: field(rec, cols.note) || undefined });
      if (!r.ok) return this.reject(this.parser.info.lines, r.reason);
      // Only what the ledger row needs (no request evidence for imported entries), as a
      // positional array: [key, scope, list_id, reason, note] (suppressions-repo importEntries).
      this.rows.push([r.row.k, r.row.s, r.row.l, r.row.r, r.row.n]);
      if (this.rows.length >= IMPORT_BATCH) this.flush();
    } catch (e) {
      this.failed ??= e;
    }
  }

  private flush() {
    if (!this.rows.length) return;
    const n = this.rows.length;
    const json = JSON.stringify(this.rows);
    this.rows = [];
    this.onBatch(json, n);
  }

  private check() {
    if (this.failed) throw this.failed instanceof Error ? this.failed : new Error(String(this.failed));
  }

  /** Parses a chunk of decoded text (batches are handed out as they fill). */
  write(text: string): void {
    this.check();
    this.parser.write(text);
    this.check();
  }

  /** Ends the input: hands out the last batch and returns the summary. */
  async end(): Promise<ParseSummary> {
    this.check();
    await new Promise<void>((res) => { this.parser.once('error', () => res()); this.parser.end(() => res()); });
    this.check();
    if (!this.cols) fail('E_CSV', 'the file is empty: a header with an address or email column is needed');
    this.flush();
    return this.summary;
  }
}

// Module-level, not a closure per record: the hot loop allocates nothing it does not keep.
function field(rec: string[], i: number): string {
  return i >= 0 ? (rec[i] ?? '').trim() : '';
}

/** Column positions from the header row; the address column is required. */
function header(rec: string[]) {
  const names = rec.map((c) => c.replace(/^\uFEFF/, '').trim().toLowerCase());
  const addr = names.findIndex((c) => ADDRESS_COLUMNS.includes(c));
  if (addr < 0) fail('E_CSV', `no address column: the header needs one of ${ADDRESS_COLUMNS.join(', ')}`);
  return { addr, scope: names.indexOf('scope'), list: names.indexOf('list_id'), reason: names.indexOf('reason'), note: names.indexOf('note') };
}
