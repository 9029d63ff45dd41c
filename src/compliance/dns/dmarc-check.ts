import { createRequire } from 'node:module';
import { getDomain } from 'tldts';
import { finding, Recorder, type Finding, type FixRecord, type Resolver } from './types.js';

const require = createRequire(import.meta.url);
type Lookup = (name: string) => Promise<DmarcRecord | false>;
/** A parsed DMARC record (mailauth: tag names lower-cased, `rr` the raw text). */
export type DmarcRecord = Record<string, string | number | undefined> & { rr: string };
/** mailauth's RFC 9989 policy discovery: DNS tree walk (§4.10), org-domain selection with psd=, at most 8 queries. */
const dmarc = require('mailauth/lib/dmarc/get-dmarc-record') as {
  createRecordLookup(resolver: Resolver, opts?: { strict?: boolean }): Lookup;
  discoverPolicy(domain: string, lookup: Lookup): Promise<{ record: DmarcRecord | false; recordDomain: string | null; orgDomain: string | null }>;
  getOrgDomain(domain: string, lookup: Lookup): Promise<string>;
};

/** Organisational domain by the RFC 9989 tree walk, through the resolver. */
export async function treeWalkOrgDomain(resolver: Resolver, domain: string): Promise<string> {
  return dmarc.getOrgDomain(domain.toLowerCase(), dmarc.createRecordLookup(resolver));
}

/** The DMARC record that applies to a domain (tree walk), or false. */
export async function discoverDmarc(resolver: Resolver, domain: string) {
  return dmarc.discoverPolicy(domain.toLowerCase(), dmarc.createRecordLookup(resolver));
}

/** A corrected record: the published tags kept, p=none when no valid policy, rua when missing, RFC 9989-removed tags dropped. */
function fixedRecord(rec: DmarcRecord | false, rp: string, set: Record<string, string> = {}): string {
  const tags: Array<[string, string]> = [['v', 'DMARC1']];
  const p = rec && ['none', 'quarantine', 'reject'].includes(String(rec.p)) ? String(rec.p) : 'none';
  tags.push(['p', p]);
  if (rec) for (const [k, v] of Object.entries(rec)) if (!['v', 'p', 'rr', 'pct', 'rf', 'ri', ...Object.keys(set)].includes(k) && v !== undefined && v !== '') tags.push([k, String(v)]);
  for (const [k, v] of Object.entries(set)) tags.push([k, v]);
  if (!tags.some(([k]) => k === 'rua')) tags.push(['rua', `mailto:dmarc@${rp}`]);
  return tags.map(([k, v]) => `${k}=${v}`).join('; ');
}

/**
 * DMARC of the From domain (R-AUTH-3, R-AUTH-4, R-AUTH-9, R-AUTH-10): found by the RFC 9989 tree
 * walk; exactly one record with an explicit p=; rua; alignment modes that let tegami's SPF
 * (return-path subdomain) and DKIM (d= the From domain) align; PSL and tree walk compared.
 * Returns the findings and whether an explicit policy applies (the send gate).
 */
export async function checkDmarc(resolver: Resolver, domain: string, rp: string, suggested: FixRecord): Promise<{ findings: Finding[]; ok: boolean }> {
  const out: Finding[] = [];
  const rec = new Recorder(resolver);
  const own = (await rec.txt(`_dmarc.${domain}`)).filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t.trim()));
  if (own.length > 1) {
    out.push(finding('dmarc.multiple', 'R-AUTH-3', 'error', `_dmarc.${domain} has ${own.length} DMARC records: receivers ignore them all`, rec.since(0), { ...suggested, note: 'replace all v=DMARC1 records by this one' }));
    return { findings: out, ok: false };
  }
  const found = await discoverDmarc(rec.resolve, domain);
  const evidence = rec.since(0);
  const psl = getDomain(domain, { allowPrivateDomains: true }) ?? domain;
  if (found.orgDomain && found.orgDomain !== psl) {
    out.push(finding('dmarc.org_domain_disagreement', 'R-AUTH-9', 'warning',
      `The RFC 9989 tree walk gives ${found.orgDomain} as organisational domain, the public-suffix list ${psl}: receivers may align and count differently`,
      evidence, { type: 'TXT', name: `_dmarc.${domain}`, value: fixedRecord(found.record && found.recordDomain === domain ? found.record : false, rp, { adkim: 's' }), note: 'an explicit record at the From domain with strict DKIM alignment (RFC 9989 App. C.3)' }));
  }
  const r = found.record;
  if (!r) {
    out.push(finding('dmarc.missing', 'R-AUTH-3', 'error', `No DMARC record applies to ${domain} (tree walk)`, evidence, suggested));
    return { findings: out, ok: false };
  }
  const where = found.recordDomain === domain ? `_dmarc.${domain}` : `_dmarc.${found.recordDomain} (inherited)`;
  // An inherited record's psd= describes the domain that published it, not this one.
  const applied = found.recordDomain === domain ? r : ({ ...r, psd: undefined } as DmarcRecord);
  const fix = { type: 'TXT', name: `_dmarc.${domain}`, value: fixedRecord(applied, rp) };
  let ok = true;
  if (r.p === undefined || r.p === '') {
    ok = false;
    out.push(finding('dmarc.no_policy', 'R-AUTH-3', 'error', `${where} states no p= (Gmail: 4.7.40/5.7.40 "doesn't specify a DMARC policy")`, evidence, fix));
  } else if (!['none', 'quarantine', 'reject'].includes(String(r.p))) {
    ok = false;
    out.push(finding('dmarc.bad_policy', 'R-AUTH-3', 'error', `${where} has p=${r.p}: not none, quarantine or reject`, evidence, fix));
  } else {
    out.push(finding('dmarc.policy', 'R-AUTH-3', 'pass', `${where}: p=${r.p}`, evidence));
    if (r.p === 'reject') out.push(finding('dmarc.reject', 'R-AUTH-10', 'info', 'p=reject: RFC 9989 §7.4 says general-purpose mail domains SHOULD NOT use it', evidence));
  }
  if (!r.rua) out.push(finding('dmarc.no_rua', 'R-AUTH-3', 'warning', `${where} has no rua: no aggregate reports reach tegami`, evidence, fix));
  const removed = ['pct', 'rf', 'ri'].filter((t) => r[t] !== undefined);
  if (removed.length) out.push(finding('dmarc.deprecated_tags', 'R-AUTH-10', 'warning', `${where} uses ${removed.join(', ')} (removed in RFC 9989; use t=y instead of pct)`, evidence, fix));
  if (found.recordDomain !== domain) out.push(finding('dmarc.inherited', 'R-AUTH-9', 'info', `${domain} has no record of its own; ${where} applies`, evidence, fix));
  // tegami signs d=<From domain> (always aligned) and uses a return-path subdomain for SPF.
  if (r.aspf === 's' && rp !== domain) {
    out.push(finding('dmarc.spf_unaligned', 'R-AUTH-4', 'warning', `aspf=s: SPF for ${rp} cannot align with ${domain}; only DKIM aligns`, evidence, { ...fix, value: fix.value.replace(/; aspf=s/, '') }));
  } else if (rp !== domain) {
    const rpOrg = await treeWalkOrgDomain(rec.resolve, rp).catch(() => null);
    const org = found.orgDomain ?? psl;
    if (rpOrg && rpOrg !== org) out.push(finding('dmarc.spf_unaligned', 'R-AUTH-4', 'warning', `The return path ${rp} is in ${rpOrg}, the From domain in ${org}: SPF does not align`, rec.since(0)));
  }
  return { findings: out, ok };
}
