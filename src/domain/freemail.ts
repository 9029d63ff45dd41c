/**
 * Mailbox-provider domains that must never be a tenant's From domain (R-AUTH-12): their own
 * DMARC policies (quarantine/reject) would fail our mail, and the rules forbid it.
 */
const EXACT = new Set([
  'gmail.com', 'googlemail.com', 'aol.com', 'aim.com', 'outlook.com', 'msn.com', 'passport.com',
  'icloud.com', 'me.com', 'mac.com', 'web.de', 'mail.ru', 'inbox.ru', 'bk.ru', 'list.ru', 'proton.me', 'protonmail.com',
  'pm.me', 'zoho.com', 'yandex.com', 'yandex.ru', 'ya.ru', 'docomo.ne.jp', 'ezweb.ne.jp', 'au.com', 'softbank.ne.jp',
  'i.softbank.jp', 'ymobile.ne.jp', 'rakuten.jp', 'nifty.com', 'biglobe.ne.jp', 'ocn.ne.jp', 'so-net.ne.jp', 'qq.com',
  '163.com', '126.com', 'naver.com', 'daum.net', 'fastmail.com', 'hey.com', 'tutanota.com', 'tuta.io', 'mail.com',
  'orange.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl',
]);
/** Brands with many country domains: yahoo.co.jp, hotmail.co.uk, gmx.net, live.jp … */
const BRANDS = /^(yahoo|ymail|rocketmail|hotmail|live|windowslive|outlook|gmx|yandex)\.[a-z.]{2,12}$/;

/** True when the domain (A-label, lower-case) or a parent is a mailbox provider's. */
export function isFreemailDomain(domain: string): boolean {
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const d = labels.slice(i).join('.');
    if (EXACT.has(d) || BRANDS.test(d)) return true;
  }
  return false;
}
