import { isIP } from 'node:net';
import type { Config } from '../../config/schema.js';
import { finding, isNoData, Recorder, type Finding, type FixRecord, type Resolver } from './types.js';

/** The reverse-DNS name of an IPv4 or IPv6 address. */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

/** A PTR name that embeds the address (e.g. 203-0-113-5.dyn.example.net) is generic (R-INFRA-1). */
function genericPtr(host: string, ip: string): boolean {
  const parts = ip.split(/[.:]/).filter(Boolean);
  return parts.length === 4 && (host.includes(parts.join('-')) || host.includes(parts.join('.')) || host.includes([...parts].reverse().join('-')));
}

/** FCrDNS of every configured sending IP: PTR → A/AAAA → the same address, and EHLO = PTR name (R-INFRA-1/2). */
export async function checkPtr(resolver: Resolver, config: Config): Promise<Finding[]> {
  const ips = config.dns.sendingIps.split(',').map((s) => s.trim()).filter(Boolean);
  if (!ips.length) return [finding('ptr.no_ips', 'R-INFRA-1', 'info', 'No sending IPs configured (dns.sendingIps): PTR not checked (a smarthost owns its own PTR)', [])];
  const ehlo = (config.transport.mx.ehloName || config.smtp.hostname).toLowerCase();
  const out: Finding[] = [];
  for (const ip of ips) {
    const rec = new Recorder(resolver);
    const fix: FixRecord = { type: 'PTR', name: reverseName(ip), value: `${ehlo}.`, note: `set by the owner of ${ip}; ${ehlo} must resolve back to ${ip}` };
    let ptrs: string[];
    try {
      ptrs = (await rec.get(reverseName(ip), 'PTR')).map((p) => String(p).replace(/\.$/, '').toLowerCase());
    } catch (e) {
      out.push(finding('ptr.dns_error', 'R-INFRA-1', 'warning', `PTR of ${ip}: ${(e as Error).message}`, rec.since(0)));
      continue;
    }
    if (!ptrs.length) { out.push(finding('ptr.missing', 'R-INFRA-1', 'error', `${ip} has no PTR record`, rec.since(0), fix)); continue; }
    const host = ptrs[0];
    const back = (await rec.get(host, isIP(ip) === 6 ? 'AAAA' : 'A').catch(() => [])).map(String);
    if (!back.includes(ip)) { out.push(finding('ptr.not_confirmed', 'R-INFRA-1', 'error', `${ip} → ${host} → ${back.join(', ') || 'nothing'}: forward-confirmed reverse DNS fails`, rec.since(0), { type: isIP(ip) === 6 ? 'AAAA' : 'A', name: host, value: ip })); continue; }
    if (genericPtr(host, ip)) out.push(finding('ptr.generic', 'R-INFRA-1', 'warning', `${host} looks generic (it embeds the address)`, rec.since(0), fix));
    out.push(host === ehlo
      ? finding('ptr.fcrdns', 'R-INFRA-1', 'pass', `${ip} ↔ ${host} (FCrDNS), equal to the EHLO name`, rec.since(0))
      : finding('ptr.ehlo_mismatch', 'R-INFRA-2', 'warning', `${ip} ↔ ${host}, but the EHLO name is ${ehlo}`, rec.since(0), fix));
  }
  return out;
}

/** The domain exists (SOA query: NXDOMAIN fails, NODATA means a name below a zone apex) and can receive mail (R-INFRA-6). */
export async function checkMailDomain(resolver: Resolver, name: string, role: 'From' | 'return-path', mxFix: FixRecord | null): Promise<Finding[]> {
  const rec = new Recorder(resolver);
  try {
    await rec.resolve(name, 'SOA');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOTFOUND') return [finding('infra.nxdomain', 'R-INFRA-6', 'error', `The ${role} domain ${name} does not exist in DNS (NXDOMAIN)`, rec.since(0), mxFix)];
    if (!isNoData(e)) return [finding('infra.dns_error', 'R-INFRA-6', 'warning', `SOA of ${name}: ${(e as Error).message}`, rec.since(0))];
  }
  const mx = (await rec.get(name, 'MX').catch(() => [])) as Array<{ exchange: string; priority: number }>;
  if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) {
    return [finding('infra.null_mx', 'R-INFRA-6', 'error', `The ${role} domain ${name} publishes a null MX: it cannot receive ${role === 'From' ? 'replies' : 'bounces'}`, rec.since(0), mxFix)];
  }
  if (mx.length) return [finding('infra.mx', 'R-INFRA-6', 'pass', `${name} exists and has MX ${mx.map((m) => m.exchange).join(', ')}`, rec.since(0))];
  const a = [...(await rec.get(name, 'A').catch(() => [])), ...(await rec.get(name, 'AAAA').catch(() => []))];
  if (a.length && role === 'From') return [finding('infra.implicit_mx', 'R-INFRA-6', 'info', `${name} has no MX; mail goes to its A/AAAA (implicit MX)`, rec.since(0))];
  return [finding('infra.no_mx', 'R-INFRA-6', role === 'From' ? 'warning' : 'error', `The ${role} domain ${name} has no MX${role === 'From' ? ' or address' : ''}: it cannot receive ${role === 'From' ? 'replies' : 'bounces'}`, rec.since(0), mxFix)];
}

/** MTA-STS and TLS-RPT records of the From domain (R-INFRA-4/5; optional, reported as info). */
export async function checkTlsPolicies(resolver: Resolver, domain: string, rp: string): Promise<Finding[]> {
  const out: Finding[] = [];
  const rec = new Recorder(resolver);
  const sts = (await rec.txt(`_mta-sts.${domain}`).catch(() => [])).filter((t) => /^v=STSv1/i.test(t.trim()));
  out.push(sts.length === 1
    ? finding('tls.mta_sts', 'R-INFRA-4', 'pass', `_mta-sts.${domain}: ${sts[0]}`, rec.since(0))
    : finding('tls.mta_sts_missing', 'R-INFRA-4', 'info', sts.length ? `_mta-sts.${domain} has ${sts.length} records` : `${domain} publishes no MTA-STS policy`, rec.since(0),
      { type: 'TXT', name: `_mta-sts.${domain}`, value: 'v=STSv1; id=<policy-version>', note: `and serve https://mta-sts.${domain}/.well-known/mta-sts.txt` }));
  const m = rec.log.length;
  const rpt = (await rec.txt(`_smtp._tls.${domain}`).catch(() => [])).filter((t) => /^v=TLSRPTv1/i.test(t.trim()));
  out.push(rpt.length === 1
    ? finding('tls.tlsrpt', 'R-INFRA-5', 'pass', `_smtp._tls.${domain}: ${rpt[0]}`, rec.since(m))
    : finding('tls.tlsrpt_missing', 'R-INFRA-5', 'info', `${domain} publishes no TLS-RPT record`, rec.since(m), { type: 'TXT', name: `_smtp._tls.${domain}`, value: `v=TLSRPTv1; rua=mailto:tlsrpt@${rp}` }));
  return out;
}
