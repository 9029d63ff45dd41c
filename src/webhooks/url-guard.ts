import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { fail } from '../domain/errors.js';

/** How names are resolved before connecting (dns.lookup's shape with `all: true`); tests inject one. */
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver (getaddrinfo), all addresses. */
export const systemLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96]] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for private, loopback, link-local, CGNAT, multicast and documentation addresses (SSRF). */
export function isForbiddenAddress(ip: string): boolean {
  const fam = isIP(ip);
  if (!fam) return true;
  if (fam === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return blocked.check(mapped[1], 'ipv4');
  }
  return blocked.check(ip, fam === 4 ? 'ipv4' : 'ipv6');
}

/** True when the URL is http(s) to localhost / 127.0.0.1 / ::1. */
export function isLocalTarget(u: URL): boolean {
  return LOCAL_NAMES.has(u.hostname.toLowerCase().replace(/\.$/, ''));
}

/** localhost and *.localhost (RFC 6761), with or without the trailing dot. */
function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * Checks an endpoint URL when it is saved: https only, except http to localhost when the
 * config allows it (tests, local development); no credentials; literal private addresses refused.
 * Names are checked again against their resolved addresses at every delivery (see safeAddresses).
 */
export function validateEndpointUrl(raw: string, allowLocalHttp: boolean): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    fail('E_WEBHOOK_URL', 'url: not a valid absolute URL');
  }
  if (raw.length > 2000) fail('E_WEBHOOK_URL', 'url: at most 2,000 characters');
  if (u.username || u.password) fail('E_WEBHOOK_URL', 'url: credentials in the URL are not allowed');
  const local = isLocalTarget(u);
  if (local && allowLocalHttp) {
    if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('E_WEBHOOK_URL', 'url: http or https only');
    return u;
  }
  if (u.protocol !== 'https:') fail('E_WEBHOOK_URL', 'url: https is required');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (local || isLoopbackName(host) || (isIP(host) && isForbiddenAddress(host))) {
    fail('E_WEBHOOK_URL', 'url: private, loopback and link-local targets are refused');
  }
  return u;
}

/**
 * The addresses to connect to for a URL, every one of them public (checked after resolution, so a
 * name pointing at 10.x or 169.254.169.254 is refused). Local targets pass only when allowed.
 */
export async function safeAddresses(u: URL, lookup: LookupAll, allowLocalHttp: boolean): Promise<LookupAddress[]> {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (allowLocalHttp && isLocalTarget(u)) return [{ address: isIP(host) ? host : '127.0.0.1', family: isIP(host) === 6 ? 6 : 4 }];
  if (isLocalTarget(u) || isLoopbackName(host)) fail('E_WEBHOOK_TARGET', `${host} is a loopback name`);
  const fam = isIP(host);
  const addrs = fam ? [{ address: host, family: fam }] : await lookup(host);
  if (!addrs.length) fail('E_WEBHOOK_TARGET', `${host} has no address`);
  const bad = addrs.find((a) => isForbiddenAddress(a.address));
  if (bad) fail('E_WEBHOOK_TARGET', `${host} resolves to a private, loopback or link-local address (${bad.address})`);
  return addrs;
}
