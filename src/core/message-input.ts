import { fail } from '../domain/errors.js';
import { parseAddress, parseMailbox, type Address } from '../domain/address.js';

/** The body of `POST /v1/messages`, as the API receives it. */
export interface SendMessageInput {
  from: string;
  reply_to?: string | null;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  html?: string | null;
  text?: string | null;
  template_id?: string | null;
  data?: Record<string, unknown>;
  attachments?: Array<{ filename: string; content_type: string; content: string }>;
  headers?: Record<string, string>;
  category?: string;
  list_id?: string | null;
}

/** The stored content of an API send: everything the worker needs to render each copy. */
export interface MessageContent {
  kind: 'api';
  from: { name: string | null; address: string };
  replyTo: string | null;
  to: string[];
  cc: string[];
  subject: string;
  html: string | null;
  text: string | null;
  data: Record<string, unknown>;
  attachments: Array<{ filename: string; contentType: string; content: string }>;
  headers: Record<string, string>;
  category: 'subscription' | 'transactional';
  listId: string | null;
}

const CTYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

function noCrLf(field: string, v: string): void {
  if (/[\r\n\0]/.test(v)) fail('E_HEADER_INJECTION', `${field}: CR, LF and NUL are not allowed`, { field });
}

/** Validates recipients and returns the envelope recipients (To, Cc, Bcc), de-duplicated by key. */
export function validateRecipients(input: SendMessageInput, category: string): { to: Address[]; cc: Address[]; bcc: Address[]; all: Address[] } {
  if (!Array.isArray(input.to) || input.to.length === 0) fail('E_VALIDATION', 'to: at least one recipient is required');
  const cc = input.cc ?? [];
  const bcc = input.bcc ?? [];
  // A cc recipient clicking one-click unsubscribe would unsubscribe the To address (seed 001).
  if (category === 'subscription' && (cc.length || bcc.length)) fail('E_CC_ON_SUBSCRIPTION');
  const parse = (list: string[], f: string) => list.map((a, i) => parseAddress(a, `${f}[${i}]`));
  const to = parse(input.to, 'to');
  const ccA = parse(cc, 'cc');
  const bccA = parse(bcc, 'bcc');
  const seen = new Set<string>();
  const all = [...to, ...ccA, ...bccA].filter((a) => (seen.has(a.key) ? false : (seen.add(a.key), true)));
  if (all.length > 1000) fail('E_VALIDATION', 'at most 1,000 recipients per request');
  return { to, cc: ccA, bcc: bccA, all };
}

/** Validates the parts that become headers or bodies; throws with a stable code. */
export function validateContentFields(input: SendMessageInput, limits: { attachmentBytes: number }) {
  const from = parseMailbox(input.from, 'from');
  if (from.name) noCrLf('from', from.name);
  const replyTo = input.reply_to ? parseMailbox(input.reply_to, 'reply_to') : null;
  if (input.subject !== undefined) {
    noCrLf('subject', input.subject);
    if (input.subject.length > 2000) fail('E_VALIDATION', 'subject: at most 2,000 characters');
  }
  let total = 0;
  const attachments = (input.attachments ?? []).map((a, i) => {
    noCrLf(`attachments[${i}].filename`, a.filename);
    if (!a.filename || a.filename.length > 255) fail('E_VALIDATION', `attachments[${i}].filename: 1-255 characters`);
    if (!CTYPE.test(a.content_type)) fail('E_VALIDATION', `attachments[${i}].content_type: not a media type`);
    if (!/^[A-Za-z0-9+/=\s]*$/.test(a.content)) fail('E_VALIDATION', `attachments[${i}].content: not base64`);
    const bytes = Buffer.from(a.content, 'base64');
    total += bytes.length;
    if (total > limits.attachmentBytes) fail('E_TOO_LARGE', `attachments exceed ${limits.attachmentBytes} bytes in total`);
    return { filename: a.filename, contentType: a.content_type.toLowerCase(), content: bytes.toString('base64') };
  });
  return { from, replyTo, attachments };
}
