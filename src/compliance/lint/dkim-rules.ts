import { createPublicKey } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getDomain } from 'tldts';
import type { Resolver } from '../dns/types.js';
import { discoverDmarc } from '../dns/dmarc-check.js';
import { addressOf, tagList, type LintFinding, type RawHeader } from './headers.js';

const require = createRequire(import.meta.url);
const { dkimVerify } = require('mailauth/lib/dkim/verify') as {
  dkimVerify(raw: Buffer, opts: { resolver: Resolver; curTime?: Date }): Promise<{ results: Array<{ signingDomain: string; selector: string; algo: string; signature?: string; status: { result: string; comment?: string } }> }>;
};

const f = (id: string, rule: string, severity: LintFinding['severity'], message: string, evidence?: string): LintFinding => ({ id, rule, severity, message, ...(evidence ? { evidence } : {}) });

/** A DKIM key record from a PEM text, a bare base64 `p=` value or a whole `v=DKIM1; …` record. */
function keyRecord(text: string): string {
  if (/^v=DKIM1/i.test(text) || /(^|;)\s*p=/.test(text)) return text;
  let p = text;
  if (text.includes('-----BEGIN')) {
    const k = createPublicKey(text);
    const der = k.export({ type: 'spki', format: 'der' });
    p = k.asymmetricKeyType === 'ed25519' ? der.subarray(der.length - 32).toString('base64') : der.toString('base64');
  }
  p = p.replace(/\s+/g, '');
  const bad = () => new Error('not a PEM public key, base64 p= value or v=DKIM1 record');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(p)) throw bad();
  const der = Buffer.from(p, 'base64');
  if (der.length === 32) return `v=DKIM1; k=ed25519; p=${p}`;
  try {
    createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw bad();
  }
  return `v=DKIM1; k=rsa; p=${p}`;
}

/**
 * A resolver answering `<selector>._domainkey.<domain>` TXT from given public keys (`--key`):
 * comma-separated items, each `[selector:]KEY` where KEY is a PEM (text, or a file when allowFiles), a base64 `p=`
 * or a `v=DKIM1; …` record; an item without a selector answers every selector.
 */
export function keyResolver(key: string, opts: { allowFiles?: boolean } = {}): Resolver {
  const bySelector = new Map<string, string>();
  let any: string | null = null;
  for (const item of key.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._-]+):(?!\/\/)([\s\S]+)$/.exec(item);
    let text = (m ? m[2] : item).trim();
    // Files only from the CLI: over HTTP a path would let a client probe the server's files.
    if (opts.allowFiles && !text.includes('\n') && !text.startsWith('v=') && existsSync(text)) text = readFileSync(text, 'utf8').trim();
    const rec = keyRecord(text);
    if (m) bySelector.set(m[1].toLowerCase(), rec);
    else any = rec;
  }
  return async (name, type) => {
    const sel = /^(.+?)\._domainkey\./i.exec(name)?.[1].toLowerCase();
    const rec = type === 'TXT' && sel ? (bySelector.get(sel) ?? any) : null;
    if (rec) return [[rec]];
    throw Object.assign(new Error(`no ${type} for ${name} (--key given)`), { code: 'ENOTFOUND' });
  };
}

/** Organisational domain: RFC 9989 tree walk through the resolver, the public-suffix list when DNS cannot answer. */
async function orgOf(resolver: Resolver | null, domain: string): Promise<string> {
  if (resolver) {
    try {
      // Without any DMARC record on the walk there is no DMARC organisational domain: use the PSL.
      const found = await discoverDmarc(resolver, domain);
      if (found.record && found.orgDomain) return found.orgDomain;
    } catch { /* DNS failed: fall back */ }
  }
  return getDomain(domain, { allowPrivateDomains: true }) ?? domain;
}

/**
 * DKIM on the final bytes: verified with mailauth (R-AUTH-1/2), From signed and over-signed
 * (R-AUTH-6), relaxed/relaxed and no l= (R-AUTH-7), both list headers in h= of a passing signature
 * on one-click mail (R-AUTH-8), and a passing signature aligned with the From domain (R-AUTH-4).
 */
export async function dkimRules(raw: Buffer, headers: RawHeader[], opts: { resolver: Resolver; walk: Resolver | null; now: number; oneClick: boolean }): Promise<{ findings: LintFinding[]; signatures: unknown[] }> {
  const out: LintFinding[] = [];
  const sigs = headers.filter((h) => h.key === 'dkim-signature');
  if (!sigs.length) return { findings: [f('dkim.unsigned', 'R-AUTH-2', 'error', 'The message has no DKIM-Signature')], signatures: [] };
  const verified = (await dkimVerify(raw, { resolver: opts.resolver, curTime: new Date(opts.now) })).results;
  const fromAddr = addressOf(headers.find((h) => h.key === 'from')?.value ?? '');
  const fromDomain = fromAddr?.split('@').pop()?.toLowerCase() ?? null;
  const fromOrg = fromDomain ? await orgOf(opts.walk, fromDomain) : null;
  const signatures: unknown[] = [];
  let alignedPass = false; let listSigned = false;
  const lacking: LintFinding[] = [];
  for (const [i, s] of sigs.entries()) {
    const t = tagList(s.value);
    const v = verified.find((x) => x.signature && x.signature.replace(/\s+/g, '') === t.b) ?? verified[i];
    const result = v?.status.result ?? 'none';
    const h = (t.h ?? '').toLowerCase().split(':').filter(Boolean);
    const d = (t.d ?? '').toLowerCase();
    const aligned = !!fromOrg && (await orgOf(opts.walk, d)) === fromOrg;
    signatures.push({ d, s: t.s, a: t.a, result, comment: v?.status.comment ?? null, aligned, h });
    const label = `signature ${i + 1} (d=${d}, s=${t.s}, ${t.a})`;
    if (result !== 'pass') out.push(f('dkim.fail', 'R-AUTH-2', 'error', `${label} does not verify: ${result}${v?.status.comment ? ` (${v.status.comment})` : ''}`, s.raw.slice(0, 200)));
    if (!h.includes('from')) out.push(f('dkim.from_unsigned', 'R-AUTH-6', 'error', `${label}: h= does not cover From`, s.raw.slice(0, 200)));
    else if (h.filter((x) => x === 'from').length < 2) out.push(f('dkim.not_oversigned', 'R-AUTH-6', 'warning', `${label}: From is not over-signed (a second From could be added)`));
    if (t.l !== undefined) out.push(f('dkim.body_length', 'R-AUTH-7', 'error', `${label} has l=${t.l}: content can be appended under a valid signature`));
    if ((t.c ?? 'simple/simple') !== 'relaxed/relaxed') out.push(f('dkim.canonicalization', 'R-AUTH-7', 'warning', `${label}: c=${t.c ?? 'simple/simple'} (use relaxed/relaxed)`));
    if (t.a === 'rsa-sha1') out.push(f('dkim.sha1', 'R-AUTH-5', 'error', `${label} uses rsa-sha1 (RFC 8301: MUST NOT)`));
    if (result === 'pass' && aligned) alignedPass = true;
    if (result === 'pass' && h.includes('list-unsubscribe') && h.includes('list-unsubscribe-post')) listSigned = true;
    if (opts.oneClick && !(h.includes('list-unsubscribe') && h.includes('list-unsubscribe-post'))) {
      lacking.push(f('dkim.list_headers_unsigned', 'R-AUTH-8', 'error', `${label}: h= lacks ${['list-unsubscribe', 'list-unsubscribe-post'].filter((x) => !h.includes(x)).join(' and ')}`, `h=${t.h}`));
    }
  }
  if (!alignedPass) out.push(f('dmarc.unaligned', 'R-AUTH-4', 'error', `No passing DKIM signature aligned with the From domain ${fromDomain ?? '(none)'} (organisational domain ${fromOrg ?? '?'})`));
  // One passing signature covering both list headers is what RFC 8058 §4 asks; others may lack them.
  if (opts.oneClick && listSigned) out.push(...lacking.map((x) => ({ ...x, severity: 'warning' as const })));
  else if (opts.oneClick && lacking.length) out.push(...lacking);
  else if (opts.oneClick) out.push(f('dkim.list_headers_unverified', 'R-AUTH-8', 'error', 'No passing signature covers List-Unsubscribe and List-Unsubscribe-Post: receivers SHOULD NOT offer one-click'));
  if (!out.some((x) => x.severity === 'error')) out.push(f('dkim.ok', 'R-AUTH-4', 'pass', 'Every DKIM signature verifies and one is aligned with From'));
  return { findings: out, signatures };
}
