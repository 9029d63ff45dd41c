import { fail } from '../domain/errors.js';
import { ImportBatchBuilder, type ImportBatch } from '../store/suppression-import-batch.js';
import { prepareEntry } from './suppression-prepare.js';
import { SuppressionCsvRecords, type CsvRecordsState } from './suppressions-csv-records.js';

/** Rows per write batch (one transaction each). */
export const IMPORT_BATCH = 5000;
const MAX_REJECTED = 10_000;
const ADDRESS_COLUMNS = ['address', 'email', 'e-mail', 'email_address', 'メールアドレス'];

/** What the parse side reports when the input ends. */
export interface ParseSummary { total: number; rejected_count: number; rejected: Array<{ line: number; reason: string }>; header: boolean }

/** Where a parse is, for another parser to carry on (SuppressionCsvParser.handOff). */
export interface ParserState { records: CsvRecordsState; cols: Columns | null }

type Columns = { addr: number; scope: number; list: number; reason: number; note: number };

/** The summary of a parse that one parser began and another finished (lines are the input's). */
export function joinSummaries(a: ParseSummary, b: ParseSummary): ParseSummary {
  return {
    total: a.total + b.total, rejected_count: a.rejected_count + b.rejected_count,
    rejected: [...a.rejected, ...b.rejected].slice(0, MAX_REJECTED), header: a.header || b.header,
  };
}

/**
 * The parse half of the suppression CSV import: records (SuppressionCsvRecords: csv-parse, or
 * its plain-text fast path), header, validation and canonical keys (prepareEntry), and batches of
 * IMPORT_BATCH rows handed out as ImportBatch values (the store's import insert takes them; cheap
 * to post between threads). Runs on the import's parse thread, or inline for a small input. A
 * fatal CSV error or a missing address column is thrown (as TegamiError E_CSV) from write/end; a
 * bad row is counted and reported with its line.
 */
export class SuppressionCsvParser {
  private records: SuppressionCsvRecords;
  private cols: Columns | null = null;
  private batch = new ImportBatchBuilder(IMPORT_BATCH);
  private failed: unknown = null;
  readonly summary: ParseSummary = { total: 0, rejected_count: 0, rejected: [], header: false };

  /**
   * `opts.plain: false` parses with csv-parse alone (tests compare the two). `opts.pause`: stop
   * where csv-parse would take over (`paused`), so that `handOff()` can still move the parse to
   * the thread. `opts.state`: carry on from another parser's `handOff()`.
   */
  constructor(private onBatch: (batch: ImportBatch) => void, opts: { plain?: boolean; pause?: boolean; state?: ParserState } = {}) {
    if (opts.state) {
      this.cols = opts.state.cols;
      this.summary.header = this.cols !== null;
    }
    this.records = new SuppressionCsvRecords({
      record: (rec, line) => this.record(rec, line),
      skip: (line, message) => { this.summary.total++; this.reject(line, `unreadable CSV row: ${message}`); },
      fatal: (err) => { this.failed ??= err; },
    }, { plain: opts.plain, pause: opts.pause, state: opts.state?.records });
  }

  /** Whether a pausing parser stopped where csv-parse would take over (see SuppressionCsvRecords). */
  get paused(): boolean {
    return this.records.paused;
  }

  /**
   * Hands out the rows so far as a batch and returns where the parse is, for a parser on another
   * thread to carry on (its summary then adds to this one's); null when csv-parse has taken over
   * here. This parser is done afterwards.
   */
  handOff(): ParserState | null {
    this.check();
    const records = this.records.snapshot();
    if (!records) return null;
    this.flush();
    return { records, cols: this.cols };
  }

  /** Stops pausing: csv-parse reads the kept text here. */
  unpause(): void {
    this.check();
    this.records.unpause();
    this.check();
  }

  private reject(line: number, reason: string) {
    this.summary.rejected_count++;
    if (this.summary.rejected.length < MAX_REJECTED) this.summary.rejected.push({ line, reason });
  }

  private record(rec: string[], line: number) {
    if (this.failed) return;
    try {
      if (!this.cols) {
        this.cols = header(rec);
        this.summary.header = true;
        return;
      }
      const cols = this.cols;
      this.summary.total++;
      const r = prepareEntry({ address: field(rec, cols.addr), scope: (field(rec, cols.scope) || 'account') as 'account', listId: field(rec, cols.list) || undefined, reason: field(rec, cols.reason) || 'manual', note: field(rec, cols.note) || undefined });
      if (!r.ok) return this.reject(line, r.reason);
      // Only what the ledger row needs (no request evidence for imported entries).
      this.batch.add(r.row.k, r.row.s, r.row.l, r.row.r, r.row.n);
      if (this.batch.length >= IMPORT_BATCH) this.flush();
    } catch (e) {
      this.failed ??= e;
    }
  }

  private flush() {
    if (this.batch.length) this.onBatch(this.batch.take());
  }

  private check() {
    if (this.failed) throw this.failed instanceof Error ? this.failed : new Error(String(this.failed));
  }

  /** Parses a chunk of decoded text (batches are handed out as they fill). */
  write(text: string): void {
    this.check();
    this.records.write(text);
    this.check();
  }

  /** Ends the input: hands out the last batch and returns the summary. */
  async end(): Promise<ParseSummary> {
    this.check();
    await this.records.end();
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
function header(rec: string[]): Columns {
  const names = rec.map((c) => c.replace(/^\uFEFF/, '').trim().toLowerCase());
  const addr = names.findIndex((c) => ADDRESS_COLUMNS.includes(c));
  if (addr < 0) fail('E_CSV', `no address column: the header needs one of ${ADDRESS_COLUMNS.join(', ')}`);
  return { addr, scope: names.indexOf('scope'), list: names.indexOf('list_id'), reason: names.indexOf('reason'), note: names.indexOf('note') };
}
