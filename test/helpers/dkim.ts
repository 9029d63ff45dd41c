import type { Kysely } from 'kysely';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { DB } from '../../src/store/types.js';

/** A mailauth resolver answering DKIM TXT queries from the stored public keys (no real DNS). */
export async function dkimResolverFromDb(db: Kysely<DB>) {
  const keys = await db.selectFrom('dkim_keys').innerJoin('domains', 'domains.id', 'dkim_keys.domain_id')
    .select(['dkim_keys.selector', 'dkim_keys.algorithm', 'dkim_keys.public_key', 'domains.name']).execute();
  const map = new Map(keys.map((k) => [`${k.selector}._domainkey.${k.name}`, `v=DKIM1; k=${k.algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519'}; p=${k.public_key}`]));
  return async (name: string, type: string) => {
    const v = type === 'TXT' ? map.get(name.toLowerCase()) : undefined;
    if (v) return [[v]];
    const e = new Error(`no ${type} for ${name}`) as Error & { code: string };
    e.code = 'ENOTFOUND';
    throw e;
  };
}

/** Verifies the DKIM signatures of raw bytes with mailauth; returns per-signature results. */
export async function verifyDkim(raw: Buffer, resolver: (n: string, t: string) => Promise<unknown>) {
  const r = await dkimVerify(raw, { resolver } as never);
  return (r.results as Array<{ signingDomain: string; selector: string; algo: string; status: { result: string }; signingHeaders?: { keys: string } }>);
}

/** All values of a header in raw bytes (unfolded). */
export function headerValues(raw: Buffer, name: string): string[] {
  const head = raw.toString('utf8').split('\r\n\r\n')[0].replace(/\r\n[ \t]/g, ' ');
  return head.split('\r\n').filter((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':')).map((l) => l.slice(name.length + 1).trim());
}
