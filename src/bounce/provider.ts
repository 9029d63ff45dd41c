/**
 * The mailbox provider behind an MX host or a recipient domain, for the provider-specific rules of
 * rules/smtp-replies.txt (Gmail and Microsoft reuse registered enhanced codes with their own
 * meanings, COMPLIANCE.md B.5: "classify (provider, code, text), not the code alone").
 */
const PROVIDERS: Array<[string, RegExp]> = [
  ['google', /(^|\.)(google\.com|googlemail\.com|gmail\.com|aspmx\.l\.google\.com)$/],
  ['microsoft', /(^|\.)(outlook\.com|hotmail\.[a-z.]+|live\.[a-z.]+|msn\.com|protection\.outlook\.com|office365\.com)$/],
  ['yahoo', /(^|\.)(yahoo\.[a-z.]+|yahoodns\.net|aol\.com|ymail\.com|rocketmail\.com)$/],
  ['apple', /(^|\.)(icloud\.com|me\.com|mac\.com|apple\.com)$/],
  ['gmx', /(^|\.)(gmx\.[a-z.]+|web\.de|mail\.com)$/],
  ['mimecast', /(^|\.)mimecast\.(com|co\.za|[a-z]{2})$/],
  ['spectrum', /(^|\.)(charter\.net|spectrum\.net|rr\.com|twc\.com|brighthouse\.com)$/],
];

/** The provider name for a host name or an address (its domain), or null. */
export function providerOf(hostOrAddress: string | null | undefined): string | null {
  if (!hostOrAddress) return null;
  const host = hostOrAddress.slice(hostOrAddress.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '').slice(0, 255);
  for (const [name, re] of PROVIDERS) if (re.test(host)) return name;
  return null;
}
