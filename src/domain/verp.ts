import { createHmac } from 'node:crypto';
import { deriveKey, safeEqual } from './secrets.js';

const SIG = 8; // bytes of HMAC: enough to stop forged bounces suppressing real recipients

/** Key for VERP return paths, derived from the master key. */
export function verpKey(masterKey: Buffer): Buffer {
  return deriveKey(masterKey, 'verp:v1');
}

function sig(key: Buffer, id: string): string {
  return createHmac('sha256', key).update(id).digest().subarray(0, SIG).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Per-message VERP Return-Path `b+<id36>.<sig>@<bounce domain>` (issue 3 item 7, R-AUTH-4):
 * bounces name the message they belong to, and the signature stops forged bounces.
 */
export function verpAddress(key: Buffer, messageRowId: number, bounceDomain: string): string {
  const id = messageRowId.toString(36);
  return `b+${id}.${sig(key, id)}@${bounceDomain}`;
}

/** The message row id of a VERP local part, or null when it is not one of ours. */
export function parseVerp(key: Buffer, localPart: string): number | null {
  const m = /^b\+([0-9a-z]{1,13})\.([0-9a-z]{4,16})$/i.exec(localPart);
  if (!m) return null;
  const id = m[1].toLowerCase();
  if (!safeEqual(sig(key, id), m[2].toLowerCase())) return null;
  const n = parseInt(id, 36);
  return Number.isSafeInteger(n) ? n : null;
}
