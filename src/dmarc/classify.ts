import { BlockList, isIP } from 'node:net';
import { getDomain } from 'tldts';
import type { DkimAuthResult, PolicyReason, SpfAuthResult } from './report-types.js';

/** Who a source is (issue 9 item 2). */
export type SourceClass = 'tegami' | 'authorized' | 'forwarder' | 'failing';

/** What the classifier knows about the account. */
export interface ClassifyContext {
  /** tegami's sending IPs and networks (config.dns.sendingIps). */
  sendingIps: BlockList;
  /** Domain name -> DKIM selectors tegami holds for it (dkim_keys). */
  selectors: Map<string, Set<string>>;
}

/** The parts of a record the classifier reads. */
export interface ClassifyInput {
  sourceIp: string;
  headerFrom: string;
  /** policy_evaluated (already the aligned results per RFC 7489 §A.2); '' when the reporter omitted them. */
  dkim: string;
  spf: string;
  dkimResults: DkimAuthResult[];
  spfResults: SpfAuthResult[];
  reasons: PolicyReason[];
  /** Alignment modes from policy_published ('s' strict, else relaxed). */
  adkim: string;
  aspf: string;
}

/** The verdict for one record, with the facts it rests on. */
export interface Classification {
  class: SourceClass;
  dkimAligned: boolean;
  spfAligned: boolean;
  /** DMARC pass: aligned DKIM or aligned SPF. */
  dmarcPass: boolean;
  tegamiKey: boolean;
}

/** Organisational domain for relaxed alignment (R-AUTH-9: the PSL, as RFC 7489 does). */
export function orgDomain(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  return getDomain(n, { allowPrivateDomains: true }) ?? n;
}

/** Identifier alignment (RFC 7489 §3.1): strict is equality, relaxed compares organisational domains. */
export function aligned(a: string, b: string, mode: string): boolean {
  if (!a || !b) return false;
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  return mode === 's' ? x === y : x === y || orgDomain(x) === orgDomain(y);
}

/** Parses `config.dns.sendingIps` (comma- or space-separated IPs and CIDR networks). */
export function sendingIpList(spec: string): BlockList {
  const list = new BlockList();
  for (const raw of spec.split(/[\s,]+/).filter(Boolean)) {
    const [addr, bits] = raw.replace(/^ip[46]:/i, '').split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : isIP(addr) === 4 ? 'ipv4' : null;
    if (!type) continue;
    if (bits !== undefined && /^\d+$/.test(bits)) list.addSubnet(addr, Number(bits), type);
    else list.addAddress(addr, type);
  }
  return list;
}

/** True when the IP is one of tegami's sending IPs. */
export function isTegamiIp(ctx: ClassifyContext, ip: string): boolean {
  const v = isIP(ip);
  return v !== 0 && ctx.sendingIps.check(ip, v === 6 ? 'ipv6' : 'ipv4');
}

const FORWARD_REASONS = new Set(['forwarded', 'mailing_list', 'trusted_forwarder']);

/**
 * Classifies one record (R-AUTH-4 alignment), first match wins:
 * 1. the source IP is tegami's -> tegami;
 * 2. DKIM passes aligned with a selector tegami holds for that domain, and SPF passes -> tegami;
 * 3. aligned DKIM passes but SPF does not pass, or the reporter says "forwarded" -> forwarder
 *    (the original signature survived a hop that SPF does not cover);
 * 4. aligned DKIM or aligned SPF passes -> authorized (another service sending for the domain);
 * 5. otherwise -> failing (unknown, possibly spoofing).
 */
export function classifyRecord(ctx: ClassifyContext, r: ClassifyInput): Classification {
  const dkimPassAligned = r.dkimResults.filter((d) => d.result === 'pass' && aligned(d.domain, r.headerFrom, r.adkim));
  const dkimAligned = r.dkim === 'pass' || dkimPassAligned.length > 0;
  const spfAligned = r.spf === 'pass' || r.spfResults.some((s) => s.result === 'pass' && (!s.scope || s.scope === 'mfrom') && aligned(s.domain, r.headerFrom, r.aspf));
  const spfPass = spfAligned || r.spfResults.some((s) => s.result === 'pass');
  const tegamiKey = dkimPassAligned.some((d) => ctx.selectors.get(d.domain)?.has(d.selector.toLowerCase()) ?? false);
  const dmarcPass = dkimAligned || spfAligned;
  const out = (c: SourceClass): Classification => ({ class: c, dkimAligned, spfAligned, dmarcPass, tegamiKey });
  if (isTegamiIp(ctx, r.sourceIp)) return out('tegami');
  if (tegamiKey && spfPass) return out('tegami');
  if ((dkimAligned && !spfPass) || (dkimAligned && r.reasons.some((x) => FORWARD_REASONS.has(x.type)))) return out('forwarder');
  if (dmarcPass) return out('authorized');
  return out('failing');
}
