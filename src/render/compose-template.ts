import { randomBytes, randomFillSync } from 'node:crypto';
import type { Transform } from 'node:stream';
import * as base64 from 'nodemailer/lib/base64';
import { foldLines, isPlainText } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import * as qp from 'nodemailer/lib/qp';
import { listUnsubscribeValue } from '../domain/headers.js';
import { composeMessage, type ComposeInput } from './compose.js';

/** What differs between the copies of one content: everything else is composed once. */
export type PerRecipient = Pick<ComposeInput, 'to' | 'subject' | 'html' | 'text' | 'messageId' | 'date' | 'unsubscribe'>;
/** What the copies of one content share. */
export type SharedInput = Omit<ComposeInput, keyof PerRecipient> & { hasHtml: boolean; hasText: boolean };

/** Composes one recipient's unsigned bytes from a prepared skeleton. */
export interface ComposeTemplate {
  compose(r: PerRecipient): Buffer;
}

/**
 * Runs one of nodemailer's encoder transforms over a whole body synchronously: MailComposer feeds
 * a string body to it as one chunk, so calling its transform and flush steps directly gives the
 * same bytes (quoted-printable keeps trailing whitespace back until the end, which a plain
 * encode + wrap does not) without the stream machinery.
 */
function encodeWith(encoder: Transform, content: string): string {
  let out = '';
  const e = encoder as unknown as { push(c: string | Buffer): boolean; _transform(b: Buffer, enc: string, cb: () => void): void; _flush(cb: () => void): void };
  e.push = (c) => { out += typeof c === 'string' ? c : c.toString('latin1'); return true; };
  e._transform(Buffer.from(content, 'utf8'), 'buffer', () => {});
  e._flush(() => {});
  return out;
}

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolAt = POOL_BYTES;

/**
 * 8 fresh random bytes as 16 hex digits for a copy's MIME boundary: drawn from a pool that is
 * refilled in bulk by the CSPRNG (randomFillSync) once used up, so each byte serves exactly one
 * boundary and none is reused, at 1/512 of the calls of randomBytes(8) per copy.
 */
export function freshBoundaryHex(): string {
  if (poolAt + 8 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + 8);
  poolAt += 8;
  return hex;
}

// An address or subject MailComposer writes as it is: foldLines leaves a line under 76 characters
// alone, addressparser gives a bare lower-case ASCII address back unchanged, and encodeWords
// leaves printable ASCII without a double quote or an encoded-word look-alike ('=?') alone.
// test/compose-template.test.ts compares these with nodemailer's encodeHeaderValue + foldLines.
const PLAIN_ADDRESS = /^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
const PLAIN_SUBJECT = /^[\x21\x23-\x7e](?:[\x20\x21\x23-\x7e]*[\x21\x23-\x7e])?$/;

/**
 * nodemailer's hasLongerLines(str, 76) (`/^.{77,}/m`, true above 128 kB) as a scan that stops at
 * the first line over 76 UTF-16 units instead of matching the whole of a long line.
 */
export function hasLongerLines76(str: string): boolean {
  if (str.length > 128 * 1024) return true;
  let run = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    // The line terminators of a non-dotAll '.'.
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) run = 0;
    else if (++run > 76) return true;
  }
  return false;
}

/** The To field of a single plain address without nodemailer's address parser, or null. */
export function plainToHeader(to: string[] | undefined): string | null {
  if (!to || to.length !== 1) return null;
  const a = to[0];
  return typeof a === 'string' && a.length < 72 && PLAIN_ADDRESS.test(a) ? `To: ${a}\r\n` : null;
}

/** The Subject field of a short printable-ASCII subject without nodemailer's encoder, or null. */
export function plainSubjectHeader(subject: string | undefined): string | null {
  return typeof subject === 'string' && subject.length < 67 && PLAIN_SUBJECT.test(subject) && !subject.includes('=?') ? `Subject: ${subject}\r\n` : null;
}

type Slot = 'to' | 'subject' | 'mid' | 'date' | 'lu' | 'html' | 'htmlCte' | 'text' | 'textCte' | 'boundary';

/**
 * Issue 3 item 5, "rendered once per campaign and substituted per recipient": the MIME structure
 * of a content is built once by nodemailer's MailComposer with placeholder values; each copy then
 * fills in only its own fields (To, Subject, Message-ID, Date, List-Unsubscribe, the two bodies
 * and a fresh boundary), each encoded with nodemailer's own functions exactly as MailComposer
 * encodes it (RFC 2047 words, folding at 76, 7bit/quoted-printable/base64 chosen per body, raw
 * UTF-8 only with SMTPUTF8, R-EAI-1). test/compose-template.test.ts checks the bytes equal
 * composeMessage's for the same input. Returns null when the skeleton does not have the expected
 * shape (attachments, unusual headers): the caller then composes each copy in full.
 */
export async function composeTemplate(shared: SharedInput): Promise<ComposeTemplate | null> {
  if (shared.attachments?.length) return null;
  const tok = `tgm${randomBytes(6).toString('hex')}`;
  const bnd = randomBytes(8).toString('hex');
  const ph = {
    to: `${tok}to@placeholder.invalid`, subject: `${tok}subject`, mid: `<${tok}mid@placeholder.invalid>`, date: new Date(0),
    url: `https://${tok}.invalid/u`, mailto: `mailto:${tok}@placeholder.invalid`, html: `${tok}html`, text: `${tok}text`,
  };
  const sub = shared.category === 'subscription';
  const skeleton = (await composeMessage({
    ...shared, to: [ph.to], subject: ph.subject, messageId: ph.mid, date: ph.date,
    html: shared.hasHtml ? ph.html : null, text: shared.hasText ? ph.text : null,
    unsubscribe: sub ? { url: ph.url, mailto: ph.mailto } : null, baseBoundary: bnd,
  } as ComposeInput)).toString('utf8');
  const node = new MimeNode('text/plain', { textEncoding: shared.smtpUtf8 ? undefined : 'quoted-printable' } as never) as MimeNode & {
    encodeHeaderValue(key: string, value: unknown): string;
    _getTextEncoding(value: string): 'Q' | 'B';
  };

  const finds: Array<{ find: string; slot: Slot }> = [
    { find: `To: ${ph.to}\r\n`, slot: 'to' },
    { find: `Subject: ${ph.subject}\r\n`, slot: 'subject' },
    { find: `Message-ID: ${ph.mid}\r\n`, slot: 'mid' },
    { find: `Date: ${ph.date.toUTCString().replace(/GMT/, '+0000')}\r\n`, slot: 'date' },
  ];
  if (sub) finds.push({ find: `List-Unsubscribe: ${listUnsubscribeValue(ph.url, ph.mailto)}\r\n`, slot: 'lu' });
  const hits: Array<{ at: number; len: number; slot: Slot }> = [];
  for (const f of finds) {
    const at = skeleton.indexOf(f.find);
    if (at < 0 || skeleton.indexOf(f.find, at + 1) >= 0 || (at > 0 && skeleton[at - 1] !== '\n')) return null;
    hits.push({ at, len: f.find.length, slot: f.slot });
  }
  // Each body and its Content-Transfer-Encoding field (the nearest one before it: right above
  // it in a multipart, among the message headers in a single-part message).
  for (const [slot, value] of [['html', shared.hasHtml ? ph.html : null], ['text', shared.hasText ? ph.text : null]] as const) {
    if (value === null) continue;
    const at = skeleton.indexOf(`\r\n\r\n${value}`);
    if (at < 0 || skeleton.indexOf(value, at + 5) >= 0) return null;
    const cte = 'Content-Transfer-Encoding: 7bit\r\n';
    const cteAt = skeleton.lastIndexOf(cte, at);
    if (cteAt < 0 || skeleton[cteAt - 1] !== '\n') return null;
    hits.push({ at: cteAt, len: cte.length, slot: `${slot}Cte` }, { at: at + 4, len: value.length, slot });
  }
  const boundary = `_NmP-${bnd}-Part_`;
  for (let at = skeleton.indexOf(boundary); at >= 0; at = skeleton.indexOf(boundary, at + 1)) hits.push({ at, len: boundary.length, slot: 'boundary' });
  hits.sort((a, b) => a.at - b.at);
  // Any placeholder left outside the slots means the shape is not the expected one.
  let rest = '';
  const parts: Array<string | Slot> = [];
  let pos = 0;
  for (const h of hits) {
    if (h.at < pos) return null;
    parts.push(skeleton.slice(pos, h.at), h.slot);
    rest += skeleton.slice(pos, h.at);
    pos = h.at + h.len;
  }
  let tail = skeleton.slice(pos);
  // MailComposer ends the message with CRLF unless it already ends with a line break
  // (nodemailer's LastNewline); a single-part body is last, so that is decided per copy.
  const lastBody = parts[parts.length - 1] === 'html' || parts[parts.length - 1] === 'text';
  if (lastBody) {
    if (tail !== '\r\n') return null;
    tail = '';
  }
  parts.push(tail);
  if ((rest + tail).includes(tok)) return null;

  const header = (key: string, value: unknown) => {
    const v = node.encodeHeaderValue(key, value);
    return (v || '').toString().trim() ? `${foldLines(`${key}: ${v}`, 76)}\r\n` : '';
  };
  const body = (content: string): { cte: string; body: string } => {
    if (isPlainText(content) && !hasLongerLines76(content)) return { cte: 'Content-Transfer-Encoding: 7bit\r\n', body: content };
    return node._getTextEncoding(content) === 'Q'
      ? { cte: 'Content-Transfer-Encoding: quoted-printable\r\n', body: encodeWith(new qp.Encoder({ binary: false } as never), content) }
      : { cte: 'Content-Transfer-Encoding: base64\r\n', body: encodeWith(new base64.Encoder({ binary: false } as never), content) };
  };

  return {
    compose(r) {
      const fresh = `_NmP-${freshBoundaryHex()}-Part_`;
      const html = shared.hasHtml ? body(r.html ?? '') : null;
      const text = shared.hasText ? body(r.text ?? '') : null;
      let out = '';
      for (const p of parts) {
        switch (p) {
          case 'to': out += plainToHeader(r.to as string[]) ?? header('To', r.to); break;
          case 'subject': out += plainSubjectHeader(r.subject) ?? header('Subject', r.subject); break;
          case 'mid': out += header('Message-ID', r.messageId); break;
          case 'date': out += header('Date', r.date); break;
          case 'lu': {
            if (!r.unsubscribe) throw new Error('subscription mail needs one-click unsubscribe (R-UNSUB-1)');
            out += `List-Unsubscribe: ${listUnsubscribeValue(r.unsubscribe.url, r.unsubscribe.mailto)}\r\n`;
            break;
          }
          case 'html': out += html!.body; break;
          case 'htmlCte': out += html!.cte; break;
          case 'text': out += text!.body; break;
          case 'textCte': out += text!.cte; break;
          case 'boundary': out += fresh; break;
          default: out += p;
        }
      }
      if (lastBody) {
        const last = out.charCodeAt(out.length - 1);
        if (last === 0x0d) out += '\n';
        else if (last !== 0x0a) out += '\r\n';
      }
      return Buffer.from(out, 'utf8');
    },
  };
}
