import type { Config } from '../../config/schema.js';
import { dnsRecords } from '../../domain/dns-records.js';
import { checkDkim, type StoredKey } from './dkim-check.js';
import { checkDmarc } from './dmarc-check.js';
import { checkMailDomain, checkPtr, checkTlsPolicies } from './infra-check.js';
import { checkSpf } from './spf-check.js';
import { finding, type DomainCheck, type Finding, type FixRecord, type Resolver } from './types.js';

/** The domain as the check needs it. */
export interface CheckedDomain { name: string; return_path_domain: string; unsubscribe_host: string | null }

/** Runs a sub-check; a transient DNS failure becomes a warning and an unknown (null) gate. */
async function guarded<T>(id: string, fn: () => Promise<T>): Promise<T | Finding> {
  try {
    return await fn();
  } catch (e) {
    return finding(`${id}.dns_error`, 'R-PROOF-1', 'warning', `${id} check could not finish: ${(e as Error).message}`, []);
  }
}
const isFinding = (x: unknown): x is Finding => !!x && typeof x === 'object' && 'severity' in x && 'rule' in x;

/**
 * The domain check (issue 6 item 1): SPF, both DKIM selectors, DMARC, PTR of the sending IPs,
 * MX/SOA of the From and return-path domains, MTA-STS and TLS-RPT. Every finding carries its rule
 * id, severity, the DNS answers and the record to publish. Gates are null when DNS failed
 * (the caller keeps the previous value rather than blocking on an outage).
 */
export async function runDomainCheck(resolver: Resolver, config: Config, d: CheckedDomain, keys: StoredKey[], now: number): Promise<DomainCheck> {
  const suggested = dnsRecords({
    domain: d.name, returnPathDomain: d.return_path_domain, unsubscribeHost: d.unsubscribe_host, keys,
    mxHost: config.smtp.hostname, publicHost: new URL(config.http.unsubscribeUrl || config.http.publicUrl).hostname,
    spfInclude: config.dns.spfInclude, sendingIps: config.dns.sendingIps,
  });
  const pick = (type: string, name: string): FixRecord => {
    const r = suggested.find((x) => x.type === type && x.name === name)!;
    return { type: r.type, name: r.name, value: r.value, ...(r.placeholder ? { note: 'edit before publishing' } : {}) };
  };
  const spfFix = pick('TXT', d.return_path_domain);
  const [spf, dkim, dmarc, ptr, fromMx, rpMx, tls] = await Promise.all([
    guarded('spf', () => checkSpf(resolver, config, d.return_path_domain, spfFix)),
    guarded('dkim', () => checkDkim(resolver, d.name, keys)),
    guarded('dmarc', () => checkDmarc(resolver, d.name, d.return_path_domain, pick('TXT', `_dmarc.${d.name}`))),
    guarded('ptr', () => checkPtr(resolver, config)),
    guarded('from_domain', () => checkMailDomain(resolver, d.name, 'From', null)),
    guarded('return_path', () => checkMailDomain(resolver, d.return_path_domain, 'return-path', pick('MX', d.return_path_domain))),
    guarded('tls', () => checkTlsPolicies(resolver, d.name, d.return_path_domain)),
  ]);
  const findings: Finding[] = [];
  for (const part of [spf, dkim, dmarc, ptr, fromMx, rpMx, tls]) {
    if (isFinding(part)) findings.push(part);
    else if (Array.isArray(part)) findings.push(...part);
    else findings.push(...part.findings);
  }
  const gates = {
    dkim: isFinding(dkim) ? null : dkim.ok,
    dmarc: isFinding(dmarc) ? null : dmarc.ok,
  };
  return {
    domain: d.name, return_path_domain: d.return_path_domain, checked_at: now,
    ok: !findings.some((f) => f.severity === 'error'), gates, findings,
  };
}
