import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { decryptSecret, encryptSecret } from '../domain/secrets.js';
import { newId } from '../domain/ids.js';
import type { DkimKeysTable } from '../store/types.js';

/** The DKIM algorithms tegami signs with: RSA first, Ed25519 in addition (R-AUTH-13). */
export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

/** The `p=` value of a public key: SPKI DER for RSA, the raw 32-byte key for Ed25519 (RFC 8463). */
export function publicKeyValue(alg: DkimAlgorithm, pub: KeyObject): string {
  const der = pub.export({ type: 'spki', format: 'der' });
  return alg === 'rsa-sha256' ? der.toString('base64') : der.subarray(der.length - 32).toString('base64');
}

/** Selector base named by date, e.g. `tg202611` (+ 'b', 'c' … when rotated in the same month). */
export function selectorBase(now: number, taken: Set<string>): string {
  const d = new Date(now);
  const base = `tg${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  for (const suffix of ['', ...'bcdefghijklmnopqrstuvwxyz']) {
    const s = base + suffix;
    if (!taken.has(`${s}r`) && !taken.has(`${s}e`)) return s;
  }
  throw new Error('too many key rotations this month');
}

const genKeyPair = promisify(generateKeyPair);

/**
 * Generates an RSA-2048 (R-AUTH-5) and an Ed25519 key (R-AUTH-13), encrypting the private keys
 * (AES-256-GCM, the row id as AAD). Asynchronous: RSA generation takes up to a few hundred ms on
 * the thread pool instead of blocking the event loop (and must not run inside a transaction).
 */
export async function generateKeyPairRows(masterKey: Buffer, accountId: string, domainId: string, now: number, taken: Set<string>): Promise<DkimKeysTable[]> {
  const base = selectorBase(now, taken);
  const [rsa, ed] = await Promise.all([genKeyPair('rsa', { modulusLength: 2048 }), genKeyPair('ed25519')]);
  return ([['rsa-sha256', rsa, 'r'], ['ed25519-sha256', ed, 'e']] as const).map(([alg, kp, suffix]) => {
    const id = newId('dk_');
    const pem = kp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    return {
      id, account_id: accountId, domain_id: domainId, selector: `${base}${suffix}`, algorithm: alg,
      public_key: publicKeyValue(alg, kp.publicKey), private_key_enc: encryptSecret(masterKey, pem, id),
      status: 'active', created_at: now, retired_at: null,
    };
  });
}

/**
 * Keys in a stable order: oldest first, then by rotation letter within a month, RSA before
 * Ed25519. Ids and timestamps alone tie when a pair is made in one millisecond.
 */
export function orderKeys<T extends { created_at: number; selector: string; algorithm: string }>(keys: T[]): T[] {
  const rank = (k: T) => (k.algorithm === 'rsa-sha256' ? 0 : 1);
  return [...keys].sort((a, b) => Number(a.created_at) - Number(b.created_at)
    || a.selector.slice(0, -1).localeCompare(b.selector.slice(0, -1)) || rank(a) - rank(b));
}

const cache = new WeakMap<Buffer, Map<string, KeyObject>>();

/** Decrypts a stored private key once per process and keeps the KeyObject (no PEM re-parse per message). */
export function privateKeyOf(masterKey: Buffer, row: Pick<DkimKeysTable, 'id' | 'private_key_enc'>): KeyObject {
  let m = cache.get(masterKey);
  if (!m) cache.set(masterKey, (m = new Map()));
  let k = m.get(row.id);
  if (!k) {
    k = createPrivateKey(decryptSecret(masterKey, row.private_key_enc, row.id));
    m.set(row.id, k);
  }
  return k;
}
