import { parse } from 'tldts';

/**
 * Mailbox-provider domains that must never be a tenant's From domain (R-AUTH-12): their own
 * DMARC policies (quarantine/reject) would fail our mail, and the rules forbid it.
 * Exact domains (and their subdomains); i.softbank.jp is not a registrable domain, so it is listed.
 */
const EXACT = new Set([
  'gmail.com', 'googlemail.com', 'aol.com', 'aim.com', 'outlook.com', 'msn.com', 'passport.com',
  'icloud.com', 'me.com', 'mac.com', 'web.de', 'mail.ru', 'inbox.ru', 'bk.ru', 'list.ru', 'proton.me', 'protonmail.com',
  'protonmail.ch', 'pm.me', 'zoho.com', 'ya.ru', 'docomo.ne.jp', 'ezweb.ne.jp', 'au.com', 'softbank.ne.jp',
  'i.softbank.jp', 'ymobile.ne.jp', 'rakuten.jp', 'nifty.com', 'biglobe.ne.jp', 'ocn.ne.jp', 'so-net.ne.jp', 'qq.com',
  '163.com', '126.com', 'naver.com', 'daum.net', 'fastmail.com', 'hey.com', 'tutanota.com', 'tuta.io', 'mail.com',
  'orange.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl',
]);

/** Brands registered under many public suffixes: yahoo.co.jp, hotmail.co.uk, gmx.net, live.jp, yandex.ru … */
const BRANDS = new Set(['yahoo', 'ymail', 'rocketmail', 'hotmail', 'live', 'windowslive', 'outlook', 'gmx', 'yandex']);

/** True when the domain (A-label) or a parent is a mailbox provider's. */
export function isFreemailDomain(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const labels = d.split('.');
  for (let i = 0; i < labels.length - 1; i++) if (EXACT.has(labels.slice(i).join('.'))) return true;
  // The brand must be the registrable label itself (yahoo.co.jp), not a customer's subdomain (live.example.com).
  const p = parse(d);
  return !!p.domain && !!p.domainWithoutSuffix && BRANDS.has(p.domainWithoutSuffix);
}
