/** One DNS record to publish, with why. */
export interface DnsRecord {
  type: 'TXT' | 'MX' | 'CNAME';
  name: string;
  value: string;
  purpose: string;
  rule: string;
  /** True when the value is a suggestion the user must adapt (e.g. SPF without known IPs). */
  placeholder?: boolean;
}

/** What the record builder needs to know. */
export interface DnsInput {
  domain: string;
  returnPathDomain: string;
  unsubscribeHost: string | null;
  keys: Array<{ selector: string; algorithm: string; public_key: string; status: string }>;
  mxHost: string;
  /** Host name of tegami's public HTTPS endpoint (the unsubscribe host's CNAME target). */
  publicHost: string;
  spfInclude: string;
  sendingIps: string;
}

/**
 * The exact records a domain must publish (issue 2 item 6): DKIM for every non-retired key
 * (R-AUTH-5/13), SPF and MX for the return-path domain (R-AUTH-2/11, R-INFRA-6), and DMARC with
 * an explicit p=none and rua, without the tags RFC 9989 removed (R-AUTH-3, R-AUTH-10).
 */
export function dnsRecords(i: DnsInput): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const k of i.keys.filter((k) => k.status !== 'retired')) {
    const kt = k.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa';
    out.push({
      type: 'TXT', name: `${k.selector}._domainkey.${i.domain}`, value: `v=DKIM1; k=${kt}; p=${k.public_key}`,
      purpose: `DKIM ${kt} key (${k.status})`, rule: kt === 'rsa' ? 'R-AUTH-5' : 'R-AUTH-13',
    });
  }
  const mech = [
    ...i.sendingIps.split(',').map((s) => s.trim()).filter(Boolean).map((ip) => (ip.includes(':') ? `ip6:${ip}` : `ip4:${ip}`)),
    ...(i.spfInclude ? [`include:${i.spfInclude}`] : []),
  ];
  out.push({
    type: 'TXT', name: i.returnPathDomain, value: mech.length ? `v=spf1 ${mech.join(' ')} -all` : 'v=spf1 a mx ~all',
    purpose: 'SPF for the return-path (bounce) domain, aligned with the From organisational domain', rule: 'R-AUTH-2',
    ...(mech.length ? {} : { placeholder: true }),
  });
  // smtp.hostname defaults to localhost: an MX there would lose every bounce, so flag it.
  const localMx = !i.mxHost.includes('.') || /\.(localhost|local|internal)$/.test(i.mxHost);
  out.push({
    type: 'MX', name: i.returnPathDomain, value: `10 ${i.mxHost}.`, purpose: 'bounces and mailto unsubscribes reach tegami (set smtp.hostname)',
    rule: 'R-INFRA-6', ...(localMx ? { placeholder: true } : {}),
  });
  out.push({
    type: 'TXT', name: `_dmarc.${i.domain}`, value: `v=DMARC1; p=none; rua=mailto:dmarc@${i.returnPathDomain}`,
    purpose: 'DMARC with an explicit policy and aggregate reports to tegami', rule: 'R-AUTH-3',
  });
  if (i.unsubscribeHost) {
    // The links are https (R-UNSUB-1): whoever terminates TLS for this name needs a certificate for it.
    out.push({
      type: 'CNAME', name: i.unsubscribeHost, value: `${i.publicHost}.`, rule: 'R-UNSUB-1',
      purpose: 'one-click unsubscribe links on your own domain (needs a TLS certificate for this name)',
    });
  }
  return out;
}

/** BIND-style zone lines; TXT values split into quoted strings of at most 255 octets. */
export function formatZone(records: DnsRecord[]): string {
  return records.map((r) => {
    let v = r.value;
    if (r.type === 'TXT') {
      const parts: string[] = [];
      for (let i = 0; i < v.length; i += 255) parts.push(`"${v.slice(i, i + 255)}"`);
      v = parts.join(' ');
    }
    return `${r.name}.\tIN\t${r.type}\t${v}\t; ${r.purpose}${r.placeholder ? ' (edit before publishing)' : ''}`;
  }).join('\n') + '\n';
}
