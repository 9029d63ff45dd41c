import { Transform, type Readable } from 'node:stream';

const SNIFF = 64 * 1024;

/** A decoded text stream, the encoding chosen, and the last line holding anything but whitespace. */
export interface DecodedCsv {
  text: Transform;
  encoding: Promise<string>;
  /** 1-based; lets the importer see lines a CSV parser gave up on (an unclosed quote). */
  lastContentLine(): number;
}

/**
 * Decodes a byte stream to text: UTF-8 (BOM removed) when the first 64 KB are valid UTF-8,
 * otherwise Shift_JIS/CP932 (the usual encoding of Japanese Excel exports).
 */
export function decodeCsvStream(input: Readable): DecodedCsv {
  let line = 1;
  let lastContent = 0;
  // Counts lines of the text that passes, remembering the last one that is not blank.
  const count = (str: string): string => {
    const trimmed = str.trimEnd();
    let i = -1;
    let n = 0;
    while ((i = trimmed.indexOf('\n', i + 1)) !== -1) n++;
    if (trimmed.length) lastContent = line + n;
    for (i = trimmed.length - 1; (i = str.indexOf('\n', i + 1)) !== -1;) n++;
    line += n;
    return str;
  };
  let decoder: TextDecoder | null = null;
  let pending: Buffer[] = [];
  let size = 0;
  let resolveEnc!: (e: string) => void;
  const encoding = new Promise<string>((r) => (resolveEnc = r));
  const choose = (sample: Buffer) => {
    let enc = 'utf-8';
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    } catch {
      enc = 'shift_jis';
    }
    decoder = new TextDecoder(enc, { ignoreBOM: false });
    resolveEnc(enc);
  };
  const text = new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _e, cb) {
      if (!decoder) {
        pending.push(chunk);
        size += chunk.length;
        if (size < SNIFF) return cb();
        const all = Buffer.concat(pending);
        pending = [];
        // Only the first 64 KB decide: later bad bytes become U+FFFD and the importer rejects that row.
        choose(all.subarray(0, SNIFF));
        return cb(null, count(decoder!.decode(all, { stream: true })));
      }
      cb(null, count(decoder.decode(chunk, { stream: true })));
    },
    flush(cb) {
      if (!decoder) {
        const all = Buffer.concat(pending);
        choose(all);
        return cb(null, count(decoder!.decode(all)));
      }
      cb(null, count(decoder.decode()));
    },
  });
  input.on('error', (e) => text.destroy(e));
  input.pipe(text);
  return { text, encoding, lastContentLine: () => lastContent };
}
