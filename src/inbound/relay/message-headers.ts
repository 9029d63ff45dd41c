import { fail } from '../../domain/errors.js';

/** One header field of a relayed message, exactly as received (folding kept). */
export interface HeaderField {
  /** Lower-cased field name. */
  key: string;
  /** The whole field, name to end, without the final CRLF (latin1: one char per byte). */
  raw: string;
}

/** A relayed message split into its header fields and the body bytes. */
export interface SplitMessage {
  fields: HeaderField[];
  body: Buffer;
}

/** Turns bare LF (and lone CR) line ends into CRLF, as every hop after SMTP sees them. */
export function normalizeLineEnds(raw: Buffer): Buffer {
  const s = raw.toString('latin1');
  if (!/\r(?!\n)|(?<!\r)\n/.test(s)) return raw;
  return Buffer.from(s.replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

/** Splits CRLF bytes into header fields and body; a header line without a colon is E_RELAY_MESSAGE. */
export function splitMessage(raw: Buffer): SplitMessage {
  let end = raw.indexOf('\r\n\r\n');
  let body: Buffer;
  if (end < 0) {
    // Headers only, no body.
    end = raw.length;
    body = Buffer.alloc(0);
  } else {
    body = raw.subarray(end + 4);
  }
  const head = raw.subarray(0, end).toString('latin1');
  if (!head.trim()) fail('E_RELAY_MESSAGE', 'the message has no header fields');
  const fields: HeaderField[] = [];
  for (const f of head.split(/\r\n(?![ \t])/)) {
    const colon = f.indexOf(':');
    const name = colon > 0 ? f.slice(0, colon).replace(/\r\n/g, '').trim() : '';
    if (!name || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) fail('E_RELAY_MESSAGE', 'a header line is not a "Name: value" field (RFC 5322 §2.2)');
    fields.push({ key: name.toLowerCase(), raw: f });
  }
  return { fields, body };
}

/** The unfolded, trimmed value of a field. */
export function fieldValue(f: HeaderField): string {
  return f.raw.slice(f.raw.indexOf(':') + 1).replace(/\r\n(?=[ \t])/g, '').trim();
}

/** Every value of the named field, in order. */
export function valuesOf(fields: HeaderField[], key: string): string[] {
  return fields.filter((f) => f.key === key).map(fieldValue);
}

/** Joins fields and body back into message bytes. */
export function joinMessage(fields: Array<HeaderField | string>, body: Buffer): Buffer {
  const head = fields.map((f) => (typeof f === 'string' ? f : f.raw)).join('\r\n');
  return Buffer.concat([Buffer.from(head + '\r\n\r\n', 'latin1'), body]);
}

/** The h= names of a DKIM-Signature value, lower-cased. */
export function dkimSignedNames(value: string): string[] {
  const m = /(?:^|;)\s*h\s*=\s*([^;]*)/i.exec(value);
  return m ? m[1].split(':').map((n) => n.replace(/\s+/g, '').toLowerCase()).filter(Boolean) : [];
}
