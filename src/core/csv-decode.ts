import { Transform, type Readable } from 'node:stream';

const SNIFF = 64 * 1024;

/**
 * Decodes a byte stream to text: UTF-8 (BOM removed) when the first 64 KB are valid UTF-8,
 * otherwise Shift_JIS/CP932 (the usual encoding of Japanese Excel exports). Returns the text
 * stream and a promise of the encoding chosen.
 */
export function decodeCsvStream(input: Readable): { text: Transform; encoding: Promise<string> } {
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
        choose(all);
        return cb(null, decoder!.decode(all, { stream: true }));
      }
      cb(null, decoder.decode(chunk, { stream: true }));
    },
    flush(cb) {
      if (!decoder) {
        const all = Buffer.concat(pending);
        choose(all);
        return cb(null, decoder!.decode(all));
      }
      cb(null, decoder.decode());
    },
  });
  input.on('error', (e) => text.destroy(e));
  input.pipe(text);
  return { text, encoding };
}
