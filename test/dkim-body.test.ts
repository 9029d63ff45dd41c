import { describe, expect, it } from 'vitest';
import { mailauthBodyHash, needsNoLineRewriting, relaxedBodyHash } from '../src/render/dkim-body.js';

// A seeded generator so a failure reproduces.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const PIECES = ['a', 'Hello', ' ', '  ', '\t', ' \t ', '\r\n', '\r\n\r\n', '\n', '\r', '=', '=\r\n', 'äöü', '日本', '\u00a0',
  '--boundary', '.', '\u0000', 'x'.repeat(76)];
const BYTES = [Buffer.from([0xff, 0xfe]), Buffer.from([0x80]), Buffer.from([0xc2, 0xa0]), Buffer.from([0x0d, 0x0d, 0x0a])];

function generated(r: () => number, n: number): Buffer {
  const parts: Buffer[] = [];
  const len = Math.floor(r() * n);
  for (let i = 0; i < len; i++) {
    parts.push(r() < 0.1 ? BYTES[Math.floor(r() * BYTES.length)] : Buffer.from(PIECES[Math.floor(r() * PIECES.length)], 'utf8'));
  }
  // Often several empty lines or whitespace at the end.
  const tail = ['', '\r\n', '\r\n\r\n\r\n', ' ', '\t', ' \r\n', '\r\n \r\n', '\n\n', '\r'][Math.floor(r() * 9)];
  return Buffer.concat([...parts, Buffer.from(tail)]);
}

/** Bodies shaped like tegami's own: CRLF lines of 7bit / quoted-printable / base64 text, no whitespace runs. */
function cleanBody(r: () => number): Buffer {
  const lines: string[] = [];
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: Math.floor(r() * 12) }, () => ['Our', 'news=', '=C3=A4', 'offers', 'x'.repeat(20), 'Zm9vYmFy'][Math.floor(r() * 6)]);
    lines.push((r() < 0.3 ? ' ' : '') + words.join(' '));
  }
  const end = ['', '\r\n', '\n', '\r\n\r\n', '\n\n\r\n', '\r\n\r\n\r\n\r\n'][Math.floor(r() * 6)];
  // nodemailer's quoted-printable text parts keep the bare LF of the source text between CRLF soft breaks.
  return Buffer.from(lines.map((l) => l + (r() < 0.3 ? '\n' : '\r\n')).join('') + end, 'latin1');
}

const TRICKY = [
  '', '\r\n', '\r\n\r\n', '\r\n\r\n\r\n', 'a', 'a\r\n', 'a\r\n\r\n\r\n', 'a ', 'a \r\n', 'a\t\r\n', 'a  b\r\n', 'a\tb\r\n',
  ' a\r\n', '  a\r\n', '\ta\r\n', 'a\nb\n', 'a\n', '\n', '\n\n', 'a\r', 'a\rb\r\n', '\r', '\r\r\n', 'a\r\n \r\n', 'a\r\n\t\r\n',
  'a\r\n\r\nb', 'a\r\n\r\nb\r\n\r\n', ' ', '  ', '\t', ' \r\n', 'x\r\n \r\n\r\n', 'héllo wörld\r\n', 'line one\r\nline two',
  '=\r\nsoft break=\r\n', 'Hello Name1\n\nOur news =\r\nfor you.\n\n--\nUnsubscribe: https://x.example/u\n', '\n\n\n', 'a\n\r\n\n', '\na', '\r\n\n', '--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n', 'end with space ', 'a\u00a0\u00a0b\r\n',
].map((s) => Buffer.from(s, 'utf8'));

describe('relaxed body hash fast path (R-AUTH-7: c=relaxed/relaxed, no l=)', () => {
  it('equals mailauth dkimBody on tricky bodies (trailing whitespace, tabs, empty lines, empty body, no final CRLF, lone LF/CR, 8-bit bytes)', () => {
    const extra = [Buffer.from([0xff, 0x0d, 0x0a, 0x80, 0x20, 0x0d, 0x0a]), Buffer.from([0xe2, 0x80, 0x83, 0x0d, 0x0a]), Buffer.alloc(3000, 0x20), Buffer.from('a\r\n'.repeat(2000))];
    for (const b of [...TRICKY, ...extra]) expect(relaxedBodyHash(b), JSON.stringify(b.toString('latin1'))).toBe(mailauthBodyHash(b));
  });

  it('equals mailauth dkimBody on 5,000 generated bodies, both the fast path and the fallback', () => {
    const r = rng(42);
    let fast = 0;
    for (let i = 0; i < 5000; i++) {
      const b = i % 2 ? generated(r, 60) : cleanBody(r);
      if (needsNoLineRewriting(b)) fast++;
      expect(relaxedBodyHash(b), JSON.stringify(b.toString('latin1'))).toBe(mailauthBodyHash(b));
    }
    // Both paths were exercised.
    expect(fast).toBeGreaterThan(1500);
    expect(fast).toBeLessThan(5000);
  });

  it('takes the fast path only for bodies relaxed canonicalization leaves alone within the lines', () => {
    for (const s of ['a  b', 'a\tb', 'a \r\n', 'a \n', 'a ', 'a\rb', 'a\r', '\r\r\n']) expect(needsNoLineRewriting(Buffer.from(s)), s).toBe(false);
    // A bare LF only becomes CRLF: that the fast path does itself.
    for (const s of ['', 'a b\r\n', ' a\r\n', 'a\r\n\r\n', 'a=\r\n b', 'a\nb', '\n', 'a\n\n\r\n\n']) expect(needsNoLineRewriting(Buffer.from(s)), s).toBe(true);
  });
});
