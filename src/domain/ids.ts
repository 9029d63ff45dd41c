import { randomBytes } from 'node:crypto';

const B32 = '0123456789abcdefghjkmnpqrstvwxyz';

/** A time-ordered, random, URL-safe id (ULID-like, lower-case Crockford base32). */
export function newId(prefix = '', now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = B32[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const r = randomBytes(10);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += B32[r[i % 10] >> (i < 10 ? 3 : 0) & 31];
  return prefix + time + rand;
}

/** Random URL-safe secret with at least `bytes` bytes of entropy. */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
