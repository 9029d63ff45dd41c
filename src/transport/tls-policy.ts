/**
 * MX hosts of the providers that require TLS (R-INFRA-3: Gmail 421/550 x.7.29 without it).
 * Toward these, a host without STARTTLS is never sent to in clear.
 */
const TLS_REQUIRED_MX = [
  /(^|\.)google\.com$/, /(^|\.)googlemail\.com$/, // Gmail and Workspace
  /(^|\.)yahoodns\.net$/, /(^|\.)yahoo\.com$/, /(^|\.)aol\.com$/, // Yahoo, AOL
  /(^|\.)outlook\.com$/, /(^|\.)hotmail\.com$/, // Outlook.com consumer and Microsoft 365
  /(^|\.)icloud\.com$/, /(^|\.)me\.com$/, /(^|\.)apple\.com$/, // iCloud
];

/** True when delivery to this MX host must use TLS. */
export function tlsRequiredFor(mxHost: string): boolean {
  const h = mxHost.toLowerCase().replace(/\.$/, '');
  return TLS_REQUIRED_MX.some((r) => r.test(h));
}
