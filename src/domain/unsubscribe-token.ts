import { createHmac } from 'node:crypto';
import { deriveKey, safeEqual } from './secrets.js';

/**
 * The opaque, HMAC-signed token inside List-Unsubscribe URLs and mailto addresses
 * (R-UNSUB-3): it names the account, the list and the recipient (a contact id, or a message
 * row id for API mail to a non-contact) without anything readable about the recipient.
 * Tokens never expire (R-UNSUB-11); only the signature is checked.
 */
export interface UnsubscribePayload {
  accountId: string;
  /** The list the recipient leaves (R-UNSUB-8); '' for account-wide. */
  listId: string;
  /** 'c' = contact id, 'm' = message row id. */
  subject: 'c' | 'm';
  subjectId: number;
  /** Seconds since the epoch. */
  issuedAt: number;
}

/** Signing keys by key id; the first is used to sign, all verify (rotation). */
export type TokenKeys = Map<string, Buffer>;

const SIG_BYTES = 16; // 128-bit truncated HMAC-SHA256: unforgeable, keeps URLs short.

/** Derives the token keys from the master key: key id `k1` (add more ids to rotate). */
export function tokenKeys(masterKey: Buffer, ids: string[] = ['k1']): TokenKeys {
  return new Map(ids.map((id) => [id, deriveKey(masterKey, `unsubscribe-token:${id}`)]));
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest().subarray(0, SIG_BYTES).toString('base64url');
}

/** `v1.<kid>.<base64url(payload)>.<sig>`: URL- and local-part-safe (no '+' or '/'). */
export function createUnsubscribeToken(keys: TokenKeys, p: UnsubscribePayload): string {
  const [kid, key] = keys.entries().next().value as [string, Buffer];
  const body = Buffer.from([p.accountId, p.listId, p.subject + p.subjectId.toString(36), p.issuedAt.toString(36)].join('|')).toString('base64url');
  const head = `v1.${kid}.${body}`;
  return `${head}.${sign(key, head)}`;
}

/** Verifies a token; null when malformed, unknown key or bad signature (callers answer 404). */
export function verifyUnsubscribeToken(keys: TokenKeys, token: string): UnsubscribePayload | null {
  if (typeof token !== 'string' || token.length > 300) return null;
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return null;
  const key = keys.get(parts[1]);
  if (!key) return null;
  if (!safeEqual(sign(key, `${parts[0]}.${parts[1]}.${parts[2]}`), parts[3])) return null;
  const fields = Buffer.from(parts[2], 'base64url').toString('utf8').split('|');
  if (fields.length !== 4) return null;
  const [accountId, listId, subj, issued] = fields;
  const kind = subj[0];
  if (kind !== 'c' && kind !== 'm') return null;
  const subjectId = parseInt(subj.slice(1), 36);
  const issuedAt = parseInt(issued, 36);
  if (!Number.isSafeInteger(subjectId) || !Number.isSafeInteger(issuedAt)) return null;
  return { accountId, listId, subject: kind, subjectId, issuedAt };
}

const MAILTO_SIG_BYTES = 12;
const MAILTO_RE = /^u\+([a-z0-9]{1,8})\.([0-9a-z]{1,13})\.([0-9a-f]{24})$/i;

function mailtoSig(key: Buffer, kid: string, id36: string): string {
  return createHmac('sha256', key).update(`mailto|${kid}|${id36}`).digest().subarray(0, MAILTO_SIG_BYTES).toString('hex');
}

/**
 * The local part of the List-Unsubscribe mailto address, `u+<kid>.<message row id36>.<hex sig>`:
 * at most ~50 octets, inside RFC 5321's 64-octet local-part limit (the URL token above is ~120
 * characters, fine in a URL but too long for an address), case-insensitive (hex and base 36,
 * so an MTA that folds case cannot break it), and still opaque and HMAC-signed with a key id
 * (R-UNSUB-3, R-UNSUB-11). It names the message; the message row names account, list and recipient.
 */
export function createMailtoLocalPart(keys: TokenKeys, messageRowId: number): string {
  const [kid, key] = keys.entries().next().value as [string, Buffer];
  const id36 = messageRowId.toString(36);
  return `u+${kid}.${id36}.${mailtoSig(key, kid, id36)}`;
}

/** The message row id of a mailto local part, or null (malformed, unknown key id, bad signature). */
export function parseMailtoLocalPart(keys: TokenKeys, local: string): number | null {
  const m = MAILTO_RE.exec(local);
  if (!m) return null;
  const [kid, id36, sig] = [m[1].toLowerCase(), m[2].toLowerCase(), m[3].toLowerCase()];
  const key = keys.get(kid);
  if (!key || !safeEqual(mailtoSig(key, kid, id36), sig)) return null;
  const id = parseInt(id36, 36);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
