import { createHmac } from 'node:crypto';
import { deriveKey, safeEqual } from '../domain/secrets.js';

/**
 * The per-account rua address: `dmarc+<account id>.<signature>@<host>`, where the signature is
 * 80 bits of HMAC-SHA256 under a key derived from the master key. Lower-case hex and base32 only,
 * so a receiver that lower-cases local parts does not break it; 57 characters, under the 64 of
 * RFC 5321. A forged or altered token is not claimed (550 5.1.1, the server never relays).
 */
const PREFIX = 'dmarc+';

function sign(masterKey: Buffer, accountId: string): string {
  return createHmac('sha256', deriveKey(masterKey, 'dmarc-rua')).update(accountId).digest('hex').slice(0, 20);
}

/** The local part of an account's rua address. */
export function ruaLocalPart(masterKey: Buffer, accountId: string): string {
  return `${PREFIX}${accountId}.${sign(masterKey, accountId)}`;
}

/** The account a rua local part names, or null when it is not one or the signature is wrong. */
export function accountOfRuaLocalPart(masterKey: Buffer, local: string): string | null {
  const m = /^dmarc\+([a-z0-9_]{1,40})\.([0-9a-f]{20})$/.exec(local.toLowerCase());
  if (!m) return null;
  return safeEqual(sign(masterKey, m[1]), m[2]) ? m[1] : null;
}
