import { parse, type Parser } from 'csv-parse';
import { TegamiError } from '../domain/errors.js';

/** What the suppression import asks of csv-parse (relaxed: a bad row is skipped and reported, never fatal). */
const CSV_OPTIONS = { bom: true, skip_empty_lines: true, skip_records_with_error: true, relax_column_count: true, max_record_size: 64 * 1024 };
/**
 * Longest line the plain path reads. csv-parse's max_record_size (64 KiB) counts UTF-8 bytes (at
 * most 3 per UTF-16 code unit), so no line this short can reach it; a longer one goes to csv-parse.
 */
const MAX_PLAIN_LINE = 20_000;

/** Where a plain reader stopped: enough for another to carry on exactly (thread to thread). */
export interface CsvRecordsState {
  carry: string;
  line: number;
  delim: '\n' | '\r\n' | null;
  took: boolean;
  /** The text from the line where csv-parse takes over (a paused reader's), in order. */
  pending: string[];
}

/** Receives the records of a CSV text: the fields, and the (1-based) line the record ends on. */
export interface CsvRecordSink {
  /** `fields` may be reused for the next record: keep its items, not the array. */
  record(fields: string[], line: number): void;
  /** A row csv-parse could not read (it skips it; the caller reports it). */
  skip(line: number, message: string): void;
  /** A fatal CSV error (E_CSV): nothing more is read. */
  fatal(err: Error): void;
}

/** String.prototype.isWellFormed (Node 20; not in the ES2022 lib typings). */
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Splits the suppression import's CSV text into records, exactly as csv-parse with CSV_OPTIONS
 * would. Text without a quote character needs none of csv-parse's work (one record per line,
 * fields between commas, empty lines skipped) yet costs it ~1.5 µs a row, over half the import's
 * parse time; so complete lines are split here directly (the plain path) for as long as they are
 * plain, and at the first thing that is not, the rest of the input goes to csv-parse for good, at
 * a line boundary, its line count continuing ours. Not plain: a quote character; a CR other than
 * in the CRLF record delimiter (csv-parse counts a CR as a line break); a CR-only delimiter; a
 * chunk with a lone surrogate (csv-parse's UTF-8 encoding makes it U+FFFD); a line longer than
 * MAX_PLAIN_LINE. test/suppressions-csv-records.test.ts feeds tricky inputs through both.
 */
export class SuppressionCsvRecords {
  /** The unread end of the text so far (an incomplete line). */
  private carry = '';
  /** Line number of the next line (csv-parse counts from 1). */
  private line = 1;
  /** The record delimiter, found as csv-parse finds it (the first CR or LF). */
  private delim: '\n' | '\r\n' | null = null;
  /** Whether the plain path read anything (then csv-parse starts mid-file: no BOM, delimiter known). */
  private took = false;
  private csv: Parser | null = null;
  private stopped = false;
  private fields: string[] = [];
  /** The first comma at or after the last line read in the text being read (reset per text). */
  private comma = -1;

  /** With `pause`, the text csv-parse would take is kept here instead (see `paused`). */
  private pending: string[] | null = null;
  private isPaused = false;

  /**
   * `plain: false` sends everything to csv-parse (the reference that tests compare with).
   * `pause: true`: where csv-parse would take over, stop and keep the rest of the text unread, so
   * that another reader can carry on from `snapshot()` (the import hands a paused reader to its
   * parse thread). `state`: carry on from another reader's snapshot.
   */
  constructor(private sink: CsvRecordSink, opts: { plain?: boolean; pause?: boolean; state?: CsvRecordsState } = {}) {
    if (opts.pause) this.pending = [];
    if (opts.state) {
      ({ carry: this.carry, line: this.line, delim: this.delim, took: this.took } = opts.state);
      this.resume(opts.state.pending);
    } else if (opts.plain === false) this.handOver('');
  }

  /** Whether a pausing reader stopped where csv-parse would take over (its further input is kept). */
  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * Where this reader is, for another reader to carry on (`state`), or null when csv-parse has
   * taken over (its state cannot move). The reader is done afterwards.
   */
  snapshot(): CsvRecordsState | null {
    if (this.csv || this.stopped) return null;
    this.stopped = true;
    return { carry: this.carry, line: this.line, delim: this.delim, took: this.took, pending: this.pending ?? [] };
  }

  /** Stops pausing: csv-parse reads the kept text here. */
  unpause(): void {
    const kept = this.pending;
    this.pending = null;
    this.isPaused = false;
    this.resume(kept ?? []);
  }

  /** csv-parse reads text kept where the plain path stopped (its first piece starts at a line). */
  private resume(kept: string[]): void {
    if (!kept.length) return;
    this.handOver(kept[0]);
    for (let i = 1; i < kept.length; i++) this.write(kept[i]);
  }

  /** Reads a chunk of text; complete records go to the sink at once. */
  write(chunk: string): void {
    if (this.stopped || !chunk) return;
    if (this.paused) {
      this.pending!.push(chunk);
      return;
    }
    if (this.csv) {
      this.csv.write(chunk);
      return;
    }
    const text = this.carry + chunk;
    this.carry = '';
    // Per chunk, as csv-parse encodes them: a surrogate pair split across two chunks is ill-formed in both.
    if (!wellFormed(chunk)) return this.handOver(text);
    if (this.delim === null) {
      const d = discoverDelimiter(text);
      if (d === 'wait') return this.keep(text);
      if (d === '\r') return this.handOver(text);
      this.delim = d;
    }
    const last = text.lastIndexOf('\n');
    if (last < 0) return this.keep(text);
    const read = this.plainLines(text, last + 1);
    if (read <= last) return this.handOver(text.slice(read));
    this.keep(text.slice(read));
  }

  /** Ends the input; resolves once everything was read. */
  async end(): Promise<void> {
    if (this.stopped) return;
    this.unpause();
    if (!this.csv) {
      // The last line, without a line break: a record too (csv-parse reads it at the end).
      const rest = this.carry;
      this.carry = '';
      if (!rest) return;
      if (rest.indexOf('"') < 0 && rest.indexOf('\r') < 0) {
        this.comma = -1;
        this.plainLine(rest, 0, rest.length);
        return;
      }
      this.handOver(rest);
    }
    const csv = this.csv!;
    await new Promise<void>((res) => { csv.once('error', () => res()); csv.end(() => res()); });
  }

  private keep(rest: string): void {
    // A line this long is csv-parse's to refuse (max_record_size); memory stays bounded either way.
    if (rest.length > MAX_PLAIN_LINE) this.handOver(rest);
    else this.carry = rest;
  }

  /** Reads the lines of text[0, end) (end just past a '\n') while they are plain; returns where it stopped. */
  private plainLines(text: string, end: number): number {
    // Only lines that end before the first quote (and, with an LF delimiter, the first CR) are plain.
    let stop = end;
    const quote = text.indexOf('"');
    if (quote >= 0 && quote < stop) stop = quote;
    if (this.delim === '\n') {
      const cr = text.indexOf('\r');
      if (cr >= 0 && cr < stop) stop = cr;
    }
    let start = 0;
    this.comma = -1;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0 || nl >= stop) return start;
      let to = nl;
      if (this.delim === '\r\n') {
        // CRLF: the line must end with CR LF and hold no other CR (a lone LF shows as a missing CR).
        if (nl === start || text.charCodeAt(nl - 1) !== 13 || text.indexOf('\r', start) < nl - 1) return start;
        to = nl - 1;
      }
      if (to - start > MAX_PLAIN_LINE) return start;
      this.plainLine(text, start, to);
      start = nl + 1;
    }
  }

  /** One plain line text[start, to) (without its delimiter): its fields are the text between commas. */
  private plainLine(text: string, start: number, to: number): void {
    // csv-parse skips a byte order mark at the very start of the input.
    if (!this.took && start === 0 && text.charCodeAt(0) === 0xfeff) start = 1;
    this.took = true;
    const line = this.line++;
    if (start === to) return; // an empty line: skipped (skip_empty_lines)
    // One array for every plain record (the sink keeps fields, never the array).
    const fields = this.fields;
    fields.length = 0;
    for (;;) {
      // The next comma is searched once for the whole text, not once per line: a file without
      // commas would otherwise be scanned to its end for every line.
      if (this.comma < start) this.comma = text.indexOf(',', start) >>> 0; // none: 2^32 - 1, past any text
      if (this.comma >= to) break;
      fields.push(text.slice(start, this.comma));
      start = this.comma + 1;
    }
    fields.push(text.slice(start, to));
    this.sink.record(fields, line);
  }

  /** Hands the rest of the input (from a line boundary on) to csv-parse for good (or keeps it, pausing). */
  private handOver(text: string): void {
    if (this.pending) {
      this.pending.push(text);
      this.isPaused = true;
      return;
    }
    const offset = this.line - 1;
    const csv = parse(this.took ? { ...CSV_OPTIONS, bom: false, record_delimiter: this.delim! } : CSV_OPTIONS);
    this.csv = csv;
    // Arrays, no `info`: csv-parse's per-record info object doubles its cost; in flowing mode
    // 'data' fires while the parser sits at the record's end, so `info.lines` is its line.
    csv.on('skip', (err: CsvErr) => this.sink.skip((err.lines ?? 0) + offset, shifted(err, offset)));
    csv.on('error', (err: CsvErr) => { this.stopped = true; this.sink.fatal(new TegamiError('E_CSV', shifted(err, offset))); });
    csv.on('data', (rec: string[]) => this.sink.record(rec, csv.info.lines + offset));
    if (text) csv.write(text);
  }
}

type CsvErr = Error & { lines?: number };

/**
 * A csv-parse error's first line, its line number counted from the start of the input: csv-parse
 * writes its own count (`err.lines`) into the text once ("at line N", "on line N"), before any
 * field value it quotes.
 */
function shifted(err: CsvErr, offset: number): string {
  const msg = err.message.split('\n')[0];
  return offset && err.lines !== undefined ? msg.replace(`line ${err.lines}`, `line ${err.lines + offset}`) : msg;
}

/** csv-parse's record delimiter discovery: the first line break is CRLF, LF or CR ('wait': none yet, or a CR last). */
function discoverDelimiter(text: string): '\n' | '\r\n' | '\r' | 'wait' {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr < 0) return lf < 0 ? 'wait' : '\n';
  if (lf >= 0 && lf < cr) return '\n';
  if (cr + 1 >= text.length) return 'wait';
  return text.charCodeAt(cr + 1) === 10 ? '\r\n' : '\r';
}
