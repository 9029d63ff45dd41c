import { getDomain, parse } from 'tldts';

/** Mailbox-provider groups the volume rules and hourly caps are counted per (R-SCOPE-1/3, R-VOL-2). */
export type Provider = 'gmail' | 'yahoo' | 'outlook' | 'icloud' | 'other';

/** The groups with their own counters and caps. */
export const PROVIDERS: Exclude<Provider, 'other'>[] = ['gmail', 'yahoo', 'outlook', 'icloud'];

const EXACT: Record<string, Provider> = {
  'gmail.com': 'gmail', 'googlemail.com': 'gmail',
  // Yahoo Mail hosts AOL's consumer brands; Yahoo Japan is another company (COMPLIANCE.md legend).
  'aol.com': 'yahoo', 'aim.com': 'yahoo', 'ymail.com': 'yahoo', 'rocketmail.com': 'yahoo',
  'msn.com': 'outlook', 'passport.com': 'outlook', 'windowslive.com': 'outlook',
  'icloud.com': 'icloud', 'me.com': 'icloud', 'mac.com': 'icloud',
};
/** Brands registered under many public suffixes (hotmail.co.uk, live.jp, yahoo.fr …). */
const BRANDS: Record<string, Provider> = { yahoo: 'yahoo', hotmail: 'outlook', live: 'outlook', outlook: 'outlook' };

/** The provider group of a recipient address or domain. */
export function providerOf(addressOrDomain: string): Provider {
  const d = addressOrDomain.slice(addressOrDomain.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '');
  if (EXACT[d]) return EXACT[d];
  const p = parse(d);
  if (!p.domain || p.domain !== d || !p.domainWithoutSuffix) return 'other';
  if (d === 'yahoo.co.jp') return 'other';
  return BRANDS[p.domainWithoutSuffix] ?? 'other';
}

/** The organisational (registrable) domain by the public-suffix list; subdomains count together (R-SCOPE-1, R-AUTH-9). */
export function orgDomainOf(addressOrDomain: string): string {
  // A From with a display name (`"News" <news@example.com>`) counts by its address.
  const a = /<([^<>]*)>\s*$/.exec(addressOrDomain)?.[1] ?? addressOrDomain;
  const d = a.slice(a.lastIndexOf('@') + 1).trim().toLowerCase().replace(/\.$/, '');
  return getDomain(d, { allowPrivateDomains: true }) ?? d;
}

/** RFC 2606 / RFC 6761 names that can never publish DNS: domains under them are always test domains. */
export function isReservedName(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return /(^|\.)(example|test|invalid|localhost)$/.test(d) || /(^|\.)example\.(com|net|org)$/.test(d);
}

/** Start of the UTC clock hour of a time. */
export const hourOf = (t: number) => Math.floor(t / 3_600_000) * 3_600_000;
/** UTC day as YYYY-MM-DD. */
export const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
