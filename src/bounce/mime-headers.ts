/**
 * Header-block reading for the bounce parsers: unfolding, RFC 2047 encoded words, Content-Type
 * parameters (RFC 2045, RFC 2231 continuations). Everything works on "binary strings" (latin1, one
 * char per byte) so offsets stay byte offsets; every loop is linear and every input is capped.
 */

/** One header field: lowercased name, unfolded raw value. */
export interface HeaderField {
  name: string;
  value: string;
}

const MAX_FIELDS = 500;
const MAX_VALUE = 16_384;

/** Index of the blank line ending a header block, and the length of that separator; -1 when none. */
export function headerEnd(s: string, from = 0): { at: number; sep: number } {
  let i = from;
  // A block that starts with a blank line has no headers at all.
  if (s.startsWith('\r\n', i)) return { at: i, sep: 2 };
  if (s.startsWith('\n', i)) return { at: i, sep: 1 };
  for (;;) {
    const nl = s.indexOf('\n', i);
    if (nl < 0) return { at: -1, sep: 0 };
    if (s.startsWith('\r\n', nl + 1)) return { at: nl + 1, sep: 2 };
    if (s.charCodeAt(nl + 1) === 10) return { at: nl + 1, sep: 1 };
    i = nl + 1;
  }
}

const FIELD_LINE = /^([!-9;-~]{1,76})[ \t]*:[ \t]?(.*)$/;

/**
 * Parses a header block into fields. Lines that are neither a field nor a continuation are skipped
 * (real bounces carry "From " envelope lines and stray text); field count and value size are capped.
 */
export function parseHeaderBlock(block: string): HeaderField[] {
  const out: HeaderField[] = [];
  const lines = block.split('\n');
  let cur: HeaderField | null = null;
  for (let raw of lines) {
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.length > MAX_VALUE) raw = raw.slice(0, MAX_VALUE);
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && cur) {
      if (cur.value.length < MAX_VALUE) cur.value += ' ' + raw.trim();
      continue;
    }
    const m = FIELD_LINE.exec(raw);
    if (!m) { cur = null; continue; }
    if (out.length >= MAX_FIELDS) break;
    cur = { name: m[1].toLowerCase(), value: m[2].trim() };
    out.push(cur);
  }
  for (const f of out) if (f.value.length > MAX_VALUE) f.value = f.value.slice(0, MAX_VALUE);
  return out;
}

/** First value of a field, or null. */
export function getHeader(fields: HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}

/** All values of a field, in order. */
export function getHeaders(fields: HeaderField[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}

/** Decodes bytes in a charset; unknown or broken charsets fall back to UTF-8 with replacement. */
export function decodeCharset(bytes: Buffer, charset: string | null | undefined): string {
  let label = (charset ?? 'utf-8').trim().toLowerCase().replace(/^["']|["']$/g, '');
  if (label === 'us-ascii' || label === 'ascii' || label === '') label = 'utf-8';
  // Japanese mobile carriers label Shift_JIS variants with names TextDecoder does not know.
  if (/^(x-)?(sjis|shift[-_]?jis|cp932|windows-31j|ms932)$/.test(label)) label = 'shift_jis';
  if (label === 'iso-2022-jp-1' || label === 'iso-2022-jp-2' || label === 'iso-2022-jp-3') label = 'iso-2022-jp';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** A binary string (latin1) back to bytes. */
export function bytesOf(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Decodes quoted-printable text (soft breaks, =XX escapes); malformed escapes are kept as they are. */
export function decodeQuotedPrintable(s: string): Buffer {
  const noSoft = s.replace(/=[ \t]*\r?\n/g, '');
  const out = Buffer.alloc(noSoft.length);
  let n = 0;
  for (let i = 0; i < noSoft.length; i++) {
    const c = noSoft.charCodeAt(i);
    if (c === 61 && i + 2 < noSoft.length + 0 && /^[0-9A-Fa-f]{2}$/.test(noSoft.slice(i + 1, i + 3))) {
      out[n++] = parseInt(noSoft.slice(i + 1, i + 3), 16);
      i += 2;
    } else {
      out[n++] = c & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** Decodes a transfer-encoded body (binary string) to bytes. */
export function decodeTransfer(body: string, encoding: string | null): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return bytesOf(body);
}

const ENCODED_WORD = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]{0,4000})\?=/g;

/** Decodes RFC 2047 encoded words in a header value (raw 8-bit values are read as UTF-8). */
export function decodeWords(value: string): string {
  const v = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
  // Whitespace between adjacent encoded words is not part of the text (RFC 2047 §6.2).
  const joined = v.replace(/(\?=)[ \t]+(?==\?)/g, '$1');
  const text = /[\x80-\xff]/.test(joined) ? Buffer.from(joined, 'latin1').toString('utf8') : joined;
  return text.replace(ENCODED_WORD, (_m, cs: string, enc: string, data: string) => {
    const charset = cs.split('*')[0];
    const bytes = enc.toLowerCase() === 'b'
      ? Buffer.from(data, 'base64')
      : decodeQuotedPrintable(data.replace(/_/g, ' '));
    return decodeCharset(bytes, charset);
  });
}

/** A parsed Content-Type: lowercased type and parameters (names lowercased). */
export interface ContentType {
  type: string;
  params: Record<string, string>;
}

/** Parses a Content-Type value, including quoted and RFC 2231 continued parameters. */
export function parseContentType(value: string | null): ContentType {
  if (!value) return { type: 'text/plain', params: {} };
  const v = value.slice(0, 4096);
  const semi = v.indexOf(';');
  const type = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase().replace(/\s+/g, '');
  const params: Record<string, string> = {};
  const pieces: Record<string, string[]> = {};
  let i = semi < 0 ? v.length : semi + 1;
  while (i < v.length) {
    while (i < v.length && /[\s;]/.test(v[i])) i++;
    const eq = v.indexOf('=', i);
    if (eq < 0) break;
    const name = v.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < v.length && (v[i] === ' ' || v[i] === '\t')) i++;
    let val = '';
    if (v[i] === '"') {
      i++;
      while (i < v.length && v[i] !== '"') {
        if (v[i] === '\\' && i + 1 < v.length) i++;
        val += v[i++];
      }
      i++;
    } else {
      const end = v.indexOf(';', i);
      val = (end < 0 ? v.slice(i) : v.slice(i, end)).trim();
      i = end < 0 ? v.length : end;
    }
    const m = /^([^*]+)\*(\d+)?\*?$/.exec(name);
    if (m) (pieces[m[1]] ??= [])[Number(m[2] ?? 0)] = val;
    else if (name && !(name in params)) params[name] = val;
  }
  for (const [name, parts] of Object.entries(pieces)) {
    if (name in params) continue;
    let joined = parts.filter((p) => p !== undefined).join('');
    const ext = /^([^']*)'[^']*'(.*)$/.exec(joined);
    if (ext) joined = decodeCharset(Buffer.from(decodeURIComponentSafe(ext[2]), 'latin1'), ext[1] || 'utf-8');
    params[name] = joined;
  }
  return { type: type || 'text/plain', params };
}

function decodeURIComponentSafe(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
