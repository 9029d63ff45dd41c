import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Config } from '../../config/schema.js';
import { finding, Recorder, type Finding, type FixRecord, type Resolver } from './types.js';

const require = createRequire(import.meta.url);
/** mailauth's RFC 7208 evaluator (include, a, mx, ptr, exists, redirect, ip4/ip6 CIDR, macros, 10 lookups, 2 void lookups). */
const { spf } = require('mailauth/lib/spf') as {
  spf(opts: { sender: string; ip: string; helo: string; mta: string; resolver: Resolver; strict: boolean; maxElapsedTime?: number }): Promise<{
    status: { result: string; comment?: string }; lookups?: { count: number; void: number; limit: number };
  }>;
};

/** An address no SPF record should authorise (RFC 5737 TEST-NET-1): evaluating it walks the whole record. */
const PROBE_IP = '192.0.2.255';
/** RFC 7208 §4.6.4: allow at least 20 s for one evaluation, then temperror. */
const SPF_TIME_MS = 20_000;

/** The addresses tegami's mail leaves from: configured sending IPs, else the smarthost's addresses. */
export async function senderIps(config: Config, rec: Recorder): Promise<{ ips: string[]; source: string }> {
  const ips = config.dns.sendingIps.split(',').map((s) => s.trim()).filter(Boolean);
  if (ips.length) return { ips, source: 'dns.sendingIps' };
  const host = config.transport.kind === 'smtp' ? config.transport.smtp.host : '';
  if (!host) return { ips: [], source: 'none' };
  if (isIP(host)) return { ips: [host], source: `smarthost ${host}` };
  const found = [...(await rec.get(host, 'A')), ...(await rec.get(host, 'AAAA'))].map(String);
  return { ips: found, source: `smarthost ${host}` };
}

/** Adds mechanisms before the record's `all` (or redirect) term, keeping everything else. */
function withMechanisms(record: string, mechs: string[]): string {
  const terms = record.trim().split(/\s+/);
  const at = terms.findIndex((t) => /^[-~?+]?all$/i.test(t) || /^redirect=/i.test(t));
  const add = mechs.filter((m) => !terms.some((t) => t.toLowerCase() === m.toLowerCase()));
  if (at < 0) return [...terms, ...add, '~all'].join(' ');
  return [...terms.slice(0, at), ...add, ...terms.slice(at)].join(' ');
}

/**
 * SPF of the return-path (MAIL FROM) domain (R-AUTH-2, R-AUTH-11): exactly one record, no
 * permerror under the 10-lookup / 2-void-lookup limits (evaluated recursively by mailauth in
 * strict RFC 7208 mode), a warning at 8 lookups, and the sending IPs or smarthost authorised.
 */
export async function checkSpf(resolver: Resolver, config: Config, rp: string, suggested: FixRecord): Promise<Finding[]> {
  const out: Finding[] = [];
  const rec = new Recorder(resolver);
  const records = (await rec.txt(rp)).filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
  if (records.length === 0) return [finding('spf.missing', 'R-AUTH-2', 'error', `${rp} publishes no SPF record`, rec.since(0), suggested)];
  if (records.length > 1) {
    return [finding('spf.multiple', 'R-AUTH-11', 'error', `${rp} publishes ${records.length} SPF records: RFC 7208 §4.5 makes that a permerror`, rec.since(0),
      { ...suggested, note: 'replace all v=spf1 records by this one' })];
  }
  const record = records[0].trim();
  const mark = rec.log.length;
  const probe = await spf({ sender: `postmaster@${rp}`, ip: PROBE_IP, helo: config.smtp.hostname, mta: 'tegami', resolver: rec.resolve, strict: true, maxElapsedTime: SPF_TIME_MS });
  const lookups = probe.lookups?.count ?? 0;
  const evidence = [...rec.since(0)];
  if (probe.status.result === 'permerror') {
    out.push(finding('spf.permerror', 'R-AUTH-11', 'error', `SPF of ${rp} is a permerror (${probe.status.comment?.replace(/^tegami: /, '') ?? 'invalid'}; ${lookups} DNS lookups, limit 10; ${probe.lookups?.void ?? 0} void, limit 2)`,
      evidence, { type: 'TXT', name: rp, value: record, note: 'flatten includes (ip4/ip6) until the record needs at most 10 DNS lookups and 2 void lookups' }));
    return out;
  }
  if (probe.status.result === 'temperror') {
    out.push(finding('spf.temperror', 'R-AUTH-11', 'warning', `SPF of ${rp} could not be evaluated: ${probe.status.comment ?? ''}`, evidence));
    return out;
  }
  out.push(lookups >= 8
    ? finding('spf.lookups', 'R-AUTH-11', 'warning', `SPF of ${rp} needs ${lookups} of the 10 allowed DNS lookups`, evidence)
    : finding('spf.valid', 'R-AUTH-11', 'pass', `SPF of ${rp} is valid (${lookups} DNS lookups)`, evidence));
  if (/(^|\s)[+]?all(\s|$)/i.test(record)) out.push(finding('spf.pass_all', 'R-AUTH-11', 'error', `SPF of ${rp} ends in +all: it authorises every host`, rec.since(mark), { type: 'TXT', name: rp, value: record.replace(/(^|\s)\+?all(\s|$)/i, '$1~all$2') }));
  if (/(^|\s)[-~?+]?ptr(:|\s|$)/i.test(record)) out.push(finding('spf.ptr', 'R-AUTH-11', 'warning', `SPF of ${rp} uses the ptr mechanism (RFC 7208 §5.5: SHOULD NOT)`, rec.since(mark)));
  if (Buffer.byteLength(record) > 450) out.push(finding('spf.size', 'R-AUTH-11', 'warning', `SPF record of ${rp} is ${Buffer.byteLength(record)} octets (keep under 450)`, rec.since(mark)));

  const { ips, source } = await senderIps(config, rec);
  if (!ips.length) {
    const included = config.dns.spfInclude && new RegExp(`include:${config.dns.spfInclude.replace(/\./g, '\\.')}(\\s|$)`, 'i').test(record);
    out.push(config.dns.spfInclude && !included
      ? finding('spf.include_missing', 'R-AUTH-2', 'error', `SPF of ${rp} does not include ${config.dns.spfInclude}`, rec.since(0), { type: 'TXT', name: rp, value: withMechanisms(record, [`include:${config.dns.spfInclude}`]) })
      : finding('spf.ips_unknown', 'R-AUTH-2', 'info', 'No sending IPs or smarthost configured (dns.sendingIps): authorisation not checked', []));
    return out;
  }
  const refused: string[] = [];
  for (const ip of ips) {
    const r = await spf({ sender: `postmaster@${rp}`, ip, helo: config.smtp.hostname, mta: 'tegami', resolver: rec.resolve, strict: true, maxElapsedTime: SPF_TIME_MS });
    if (r.status.result !== 'pass') refused.push(`${ip} (${r.status.result})`);
  }
  const mechs = config.dns.spfInclude ? [`include:${config.dns.spfInclude}`] : ips.map((ip) => (ip.includes(':') ? `ip6:${ip}` : `ip4:${ip}`));
  out.push(refused.length
    ? finding('spf.not_authorised', 'R-AUTH-2', 'error', `SPF of ${rp} does not authorise ${refused.join(', ')} from ${source}`, rec.since(0), { type: 'TXT', name: rp, value: withMechanisms(record, mechs) })
    : finding('spf.authorised', 'R-AUTH-2', 'pass', `SPF of ${rp} authorises ${ips.join(', ')} (${source})`, rec.since(0)));
  return out;
}
