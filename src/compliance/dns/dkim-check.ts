import { createPublicKey } from 'node:crypto';
import { finding, Recorder, type Finding, type Resolver } from './types.js';

/** A stored key as the check needs it. */
export interface StoredKey { selector: string; algorithm: string; public_key: string; status: string }

/** Tags of a DKIM key record (RFC 6376 §3.6.1). */
export function parseTags(record: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of record.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).replace(/\s+/g, '');
  }
  return out;
}

/** Modulus size of an RSA `p=` value (SPKI, base64), or null when it is not an RSA key. */
export function rsaBits(p: string): number | null {
  try {
    const k = createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' });
    return k.asymmetricKeyType === 'rsa' ? (k.asymmetricKeyDetails?.modulusLength ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * Every non-retired key published at its selector and equal to the stored key (R-AUTH-2,
 * R-AUTH-5, R-AUTH-13). d= is the From domain itself, so a published key is an aligned one (R-AUTH-4).
 * Returns the findings and whether every active key is in place (the send gate).
 */
export async function checkDkim(resolver: Resolver, domain: string, keys: StoredKey[]): Promise<{ findings: Finding[]; ok: boolean }> {
  const out: Finding[] = [];
  let ok = keys.some((k) => k.status === 'active');
  if (!ok) out.push(finding('dkim.no_keys', 'R-AUTH-2', 'error', `${domain} has no active DKIM key`, []));
  for (const k of keys.filter((x) => x.status !== 'retired')) {
    const rec = new Recorder(resolver);
    const name = `${k.selector}._domainkey.${domain}`;
    const kt = k.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa';
    const want = { type: 'TXT', name, value: `v=DKIM1; k=${kt}; p=${k.public_key}` };
    const rule = kt === 'rsa' ? 'R-AUTH-5' : 'R-AUTH-13';
    let txt: string[];
    try {
      txt = (await rec.txt(name)).filter((t) => /(^|;)\s*p=/i.test(t));
    } catch (e) {
      out.push(finding('dkim.dns_error', 'R-AUTH-2', 'warning', `${name}: DNS error ${(e as Error).message}`, rec.since(0)));
      if (k.status === 'active') ok = false;
      continue;
    }
    const bad = (id: string, msg: string, severity: 'error' | 'warning' = 'error') => {
      out.push(finding(id, id === 'dkim.weak' ? 'R-AUTH-5' : 'R-AUTH-2', severity, msg, rec.since(0), want));
      if (k.status === 'active' && severity === 'error') ok = false;
    };
    if (!txt.length) { bad('dkim.missing', `${kt} key ${k.selector} (${k.status}) is not published at ${name}`); continue; }
    if (txt.length > 1) { bad('dkim.multiple', `${name} has ${txt.length} key records`); continue; }
    const tags = parseTags(txt[0]);
    if (tags.v && tags.v !== 'DKIM1') { bad('dkim.syntax', `${name}: v= must be DKIM1`); continue; }
    if ((tags.k ?? 'rsa').toLowerCase() !== kt) { bad('dkim.mismatch', `${name} publishes k=${tags.k ?? 'rsa'}, the stored key is ${kt}`); continue; }
    if (tags.p !== k.public_key) {
      bad('dkim.mismatch', tags.p ? `${name} publishes another public key than the stored ${kt} key ${k.selector}` : `${name} publishes an empty p= (revoked key)`);
      continue;
    }
    if (kt === 'rsa') {
      const bits = rsaBits(tags.p);
      if (bits !== null && bits < 1024) { bad('dkim.weak', `${name}: RSA key of ${bits} bits (at least 1024, 2048 recommended)`); continue; }
    }
    if ((tags.h ?? '').split(':').every((h) => h === 'sha1') && tags.h) { bad('dkim.sha1', `${name} allows only sha1 (RFC 8301)`); continue; }
    if ((tags.t ?? '').split(':').includes('y')) out.push(finding('dkim.testing', 'R-AUTH-2', 'warning', `${name} has t=y (testing): remove it in production`, rec.since(0), want));
    out.push(finding('dkim.published', rule, 'pass', `${kt} key ${k.selector} (${k.status}) is published and equal to the stored key`, rec.since(0)));
  }
  return { findings: out, ok };
}
