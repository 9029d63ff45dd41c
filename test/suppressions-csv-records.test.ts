import { describe, expect, it } from 'vitest';
import { joinSummaries, SuppressionCsvParser } from '../src/core/suppressions-csv-parse.js';
import { SuppressionCsvRecords } from '../src/core/suppressions-csv-records.js';
import { forEachImportRow, ImportBatchBuilder, type ImportBatch } from '../src/store/suppression-import-batch.js';
import { prng } from './helpers/prng.js';

/** Everything a record reader hands out, in order (fields copied: the plain path reuses its array). */
async function records(chunks: string[], plain: boolean) {
  const out: unknown[] = [];
  const r = new SuppressionCsvRecords({
    record: (f, line) => out.push(['record', line, [...f]]),
    skip: (line, message) => out.push(['skip', line, message]),
    fatal: (e) => out.push(['fatal', (e as { code?: string }).code, e.message]),
  }, { plain });
  for (const c of chunks) r.write(c);
  await r.end();
  return out;
}

/** What the import's parse side makes of the chunks: rows per batch and the summary, or the error. */
async function parsed(chunks: string[], plain: boolean) {
  const rows: unknown[] = [];
  const p = new SuppressionCsvParser((b) => forEachImportRow(b, (k, kind) => rows.push([k, ...kind])), { plain });
  try {
    for (const c of chunks) p.write(c);
    return { rows, summary: await p.end() };
  } catch (e) {
    return { rows, error: [(e as { code?: string }).code, (e as Error).message] };
  }
}


function chunkings(text: string, rand: () => number): string[][] {
  const out: string[][] = [[text]];
  // Every split into two chunks for short inputs; random splits for all.
  if (text.length <= 200) for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  for (let k = 0; k < 4; k++) {
    const parts: string[] = [];
    for (let i = 0; i < text.length;) {
      const n = 1 + Math.floor(rand() * 12);
      parts.push(text.slice(i, i + n));
      i += n;
    }
    out.push(parts);
  }
  return out;
}

const TRICKY: Array<[string, string]> = [
  ['plain LF', 'address,reason\na@example.jp,manual\nb@example.jp,hard_bounce\n'],
  ['CRLF', 'address,reason\r\na@example.jp,manual\r\n\r\nB@Example.JP,complaint\r\n'],
  ['BOM + LF', '\uFEFFemail,note\na@example.jp,hello\n'],
  ['BOM + CRLF, no last line break', '\uFEFFemail,note\r\na@example.jp,hello\r\nb@example.jp,bye'],
  ['a BOM later is data', 'email,note\n\uFEFFa@example.jp,x\na@example.jp,\uFEFF\n'],
  ['quoted comma, line break and doubled quote', 'email,note\na@example.jp,"one, two"\nb@example.jp,"line\nbreak"\nc@example.jp,"say ""hi"""\nd@example.jp,plain\n'],
  ['quote on the first line', '"email","reason"\na@example.jp,manual\n'],
  ['quote after many plain lines', `email,reason\n${Array.from({ length: 50 }, (_, i) => `p${i}@example.jp,manual\n`).join('')}"q@example.jp",manual\nr@example.jp,manual\n`],
  ['a quote inside an unquoted field (csv-parse skips the row)', 'email,note\na@example.jp,ab"c\nb@example.jp,ok\n'],
  ['an unclosed quote at the end', 'email,note\na@example.jp,ok\nb@example.jp,"never closed\n'],
  ['text after a closing quote', 'email,note\na@example.jp,"x"y\nb@example.jp,ok\n'],
  ['embedded commas, missing and extra columns', 'email,reason,note\na@example.jp,manual,x,y,z\nb@example.jp\nc@example.jp,,\n,,\n'],
  ['blank and whitespace-only lines', 'email\n\n\n  \na@example.jp\n\t\n\nb@example.jp\n\n'],
  ['header in another order, spaced and upper case', ' Note , REASON ,E-Mail,List_ID,Scope\nhi,unsubscribe,a@example.jp,lst_1,list\n,manual, b@example.jp ,,\n'],
  ['Japanese header and addresses', 'メールアドレス,reason\nユーザー@例え.jp,manual\nuser@メール.example,hard_bounce\n'],
  ['no trailing line break', 'email\na@example.jp\nb@example.jp'],
  ['trailing line breaks', 'email\na@example.jp\n\n\n'],
  ['CR-only line breaks (old Mac)', 'email\ra@example.jp\rb@example.jp\r'],
  ['a stray CR in an LF file', 'email,note\na@example.jp,x\ry\nb@example.jp,z\n'],
  ['CR LF in an LF file', 'email\na@example.jp\r\nb@example.jp\n'],
  ['a lone LF in a CRLF file', 'email,note\r\na@example.jp,x\nb@example.jp,y\r\nc@example.jp,z\r\n'],
  ['a lone CR in a CRLF file', 'email,note\r\na@example.jp,x\ry\r\nc@example.jp,z\r\n'],
  ['a CR at the very end', 'email\na@example.jp\r'],
  ['one line, no line break', 'email'],
  ['header only', 'email,reason\n'],
  ['empty', ''],
  ['only a BOM', '\uFEFF'],
  ['no address column', 'name,phone\nx,y\n'],
  ['bad rows among good ones', 'email,reason,scope\nnot-an-address,manual,\nok@example.jp,bogus,\nok@example.jp,manual,list\n"broken@,manual,\nFoo.Bar+x@Gmail.com,manual,\n'],
  ['a lone surrogate', 'email,note\na@example.jp,x\uD800y\nb@example.jp,ok\n'],
  ['a surrogate pair', 'email,note\na@example.jp,😀\nb@example.jp,ok😀\n'],
  ['a line longer than the plain path takes', `email,note\na@example.jp,${'n'.repeat(25_000)}\nb@example.jp,ok\n`],
  ['a record over csv-parse\'s 64 KiB limit', `email,note\na@example.jp,${'é'.repeat(40_000)}\nb@example.jp,ok\nc@example.jp,ok\n`],
  ['a long line without a line break', `email,note\nb@example.jp,ok\na@example.jp,${'n'.repeat(30_000)}`],
  ['NUL and control characters', 'email,note\na@example.jp,\u0000x\u0007\nb@example.jp\u0000,y\n'],
];

describe('suppression CSV: the plain path reads exactly what csv-parse reads (issue 4)', () => {
  it.each(TRICKY)('%s: same records, lines and skips in every chunking', async (_name, text) => {
    const rand = prng(text.length);
    for (const chunks of chunkings(text, rand)) {
      expect(await records(chunks, true), JSON.stringify(chunks.map((c) => c.length))).toEqual(await records(chunks, false));
    }
  });

  it.each(TRICKY)('%s: same rows, summary and errors from the import parser', async (_name, text) => {
    const rand = prng(text.length + 1);
    for (const chunks of chunkings(text, rand).slice(0, 8)) expect(await parsed(chunks, true)).toEqual(await parsed(chunks, false));
  });

  it.each(TRICKY)('%s: a parse handed to another parser at any chunk boundary ends the same (the import thread)', async (_name, text) => {
    // Short inputs in chunks of up to 12 characters, long ones in about 30 chunks.
    const rand = prng(text.length + 2);
    const chunks: string[] = [];
    for (let i = 0; i < text.length;) {
      const n = 1 + Math.floor(rand() * Math.max(12, text.length / 15));
      chunks.push(text.slice(i, i + n));
      i += n;
    }
    const whole = await parsed(chunks, false);
    for (let k = 0; k <= chunks.length; k++) {
      const rows: unknown[] = [];
      const batch = (b: ImportBatch) => forEachImportRow(b, (key, kind) => rows.push([key, ...kind]));
      const a = new SuppressionCsvParser(batch, { pause: true });
      let got: unknown;
      try {
        for (const c of chunks.slice(0, k)) a.write(c);
        const state = a.handOff();
        expect(state).not.toBeNull();
        // What crosses to the thread is plain data (structured clone keeps it as it is).
        const b = new SuppressionCsvParser(batch, { state: structuredClone(state!) });
        for (const c of chunks.slice(k)) b.write(c);
        got = { rows, summary: joinSummaries(a.summary, await b.end()) };
      } catch (e) {
        got = { rows, error: [(e as { code?: string }).code, (e as Error).message] };
      }
      expect(got, `handed over after ${k} of ${chunks.length} chunks`).toEqual(whole);
    }
  });

  it('agrees on 3,000 random texts over an alphabet of the characters that matter', async () => {
    const alphabet = ['a', 'b', '@', '.', 'x.jp', ',', ',', '"', '"', '\n', '\n', '\r', '\r\n', ' ', '\uFEFF', 'é', '\uD83D', '\uDE00', '😀', 'email', 'reason', 'manual'];
    const rand = prng(42);
    for (let n = 0; n < 3000; n++) {
      let text = rand() < 0.7 ? 'email,reason,note\n' : '';
      const len = Math.floor(rand() * 40);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const cut = Math.floor(rand() * (text.length + 1));
      for (const chunks of [[text], [text.slice(0, cut), text.slice(cut)]]) {
        expect(await records(chunks, true), JSON.stringify(chunks)).toEqual(await records(chunks, false));
      }
    }
  });

  it('a large plain input: the same 20,000 rows, batches of 5,000, in every chunking tried', async () => {
    const lines = ['email,reason,note'];
    for (let i = 0; i < 20_000; i++) lines.push(`u${i}@big${i % 7}.example.jp,${i % 3 ? 'manual' : 'unsubscribe'},${i % 11 ? '' : `note ${i}`}`);
    const text = lines.join('\r\n');
    const batches: ImportBatch[] = [];
    const p = new SuppressionCsvParser((b) => batches.push(b));
    for (let i = 0; i < text.length; i += 65_536) p.write(text.slice(i, i + 65_536));
    expect(await p.end()).toMatchObject({ total: 20_000, rejected_count: 0 });
    expect(batches.map((b) => b.count)).toEqual([5000, 5000, 5000, 5000]);
    expect(await parsed([text.slice(0, 100_003), text.slice(100_003)], true)).toEqual(await parsed([text], false));
  });
});

describe('import batches (parse thread to writer)', () => {
  it('round-trip rows with their kinds, past the few kinds compared directly', () => {
    const b = new ImportBatchBuilder(100);
    const rows: Array<[string, string, string, string, string | null]> = [];
    for (let i = 0; i < 60; i++) {
      // Notes and list ids that would collide if the kind lookup key were a plain join.
      const row: [string, string, string, string, string | null] = [`k${i}@example.jp`, i % 2 ? 'list' : 'account', i % 2 ? `l\u0000${i % 5}` : '', 'manual', i % 4 === 0 ? null : i % 4 === 1 ? '' : `\u0000${i % 13}`];
      rows.push(row);
      b.add(...row);
    }
    const batch = b.take();
    const back: unknown[] = [];
    forEachImportRow(batch, (k, kind) => back.push([k, ...kind]));
    expect(back).toEqual(rows);
    expect(batch.kinds.length).toBeLessThan(rows.length);
    expect(b.length).toBe(0);
    expect(b.take().count).toBe(0);
  });
});
