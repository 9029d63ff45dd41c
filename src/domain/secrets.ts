import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { fail } from './errors.js';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

/**
 * Encrypts a secret at rest with AES-256-GCM under the master key.
 * Format: `v1.<iv>.<tag>.<ciphertext>` (base64url); `aad` binds it to its row.
 */
export function encryptSecret(masterKey: Buffer, plaintext: string, aad = ''): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', masterKey, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** Decrypts what encryptSecret wrote; a wrong key or tampered value is E_MASTER_KEY. */
export function decryptSecret(masterKey: Buffer, blob: string, aad = ''): string {
  const [v, iv, tag, ct] = blob.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) fail('E_MASTER_KEY', 'encrypted value has an unknown format');
  try {
    const d = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  } catch {
    fail('E_MASTER_KEY', 'cannot decrypt a stored secret: wrong master key or tampered value');
  }
}

/** Derives a purpose-specific key from the master key so one key never serves two uses. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masterKey).update(`tegami:${purpose}`).digest();
}

/** Salted SHA-256 of a high-entropy token (API keys): fast, and safe because the token is random. */
export function hashToken(salt: string, token: string): string {
  return createHash('sha256').update(salt).update('\0').update(token).digest('base64url');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** scrypt password hash: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const h = await scryptAsync(password, salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), h.toString('base64url')].join('$');
}

/** Verifies a password against hashPassword's output in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, N, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const h = await scryptAsync(password, Buffer.from(salt, 'base64url'), 32, { N: +N, r: +r, p: +p, maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(h, Buffer.from(hash, 'base64url'));
}
