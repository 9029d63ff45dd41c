import type { Config } from '../config/schema.js';
import { fail } from '../domain/errors.js';

/**
 * Base URL of one-click links: the domain's own unsubscribe host (so the link lives on the From
 * organisational domain, seed 001), else `http.unsubscribeUrl`, else `http.publicUrl`. It must
 * be https (R-UNSUB-1); otherwise subscription mail is refused with E_UNSUBSCRIBE_URL.
 */
export function unsubscribeBase(config: Config, domain: { unsubscribe_host: string | null }): string {
  const base = domain.unsubscribe_host ? `https://${domain.unsubscribe_host}` : (config.http.unsubscribeUrl || config.http.publicUrl).replace(/\/+$/, '');
  if (!base.startsWith('https://')) fail('E_UNSUBSCRIBE_URL', `one-click unsubscribe needs https, but the base is ${base} (R-UNSUB-1)`);
  return base;
}
