import type { Deps } from '../app/deps.js';
import type { Core } from '../core/index.js';
import { isTegamiError, TegamiError } from '../domain/errors.js';
import type { RecipientHandler } from '../inbound/inbound-server.js';
import { domainsRepo } from '../store/domains-repo.js';
import { accountOfRuaLocalPart } from './rua-address.js';

/**
 * The account a rua recipient names: `dmarc+<signed token>@` at the platform host or at one of
 * that account's return-path domains, or plain `dmarc@<return-path domain>` (what the domain's
 * suggested DMARC record names) when exactly one account uses that return-path domain.
 */
async function accountFor(deps: Deps, local: string, domain: string): Promise<string | null> {
  const lower = local.toLowerCase();
  const rp = await domainsRepo(deps.store).byReturnPath(domain);
  if (lower.startsWith('dmarc+')) {
    const account = accountOfRuaLocalPart(deps.masterKey, lower);
    if (!account) return null;
    return domain === deps.config.smtp.hostname.toLowerCase() || rp.some((d) => d.account_id === account) ? account : null;
  }
  if (lower !== 'dmarc' || !rp.length) return null;
  const verified = rp.filter((d) => d.status === 'verified');
  const owners = new Set((verified.length ? verified : rp).map((d) => d.account_id));
  return owners.size === 1 ? [...owners][0] : null;
}

/**
 * Accepts DMARC aggregate reports mailed to an account's rua address (issue 9). The report is
 * stored before the 250; a refused report gets a 550/552 naming its E_DMARC_* code, a duplicate a 250.
 */
export function dmarcReportHandler(deps: Deps, core: Core): RecipientHandler {
  return {
    name: 'dmarc-rua',
    async match(local, domain) {
      const accountId = await accountFor(deps, local, domain);
      if (!accountId) return null;
      return async (raw, session) => {
        try {
          const r = await core.dmarc.ingest(accountId, raw, { source: 'smtp' });
          deps.log.info({ account: accountId, reports: r.length, duplicates: r.filter((x) => x.duplicate).length, ip: session.remoteAddress }, 'dmarc report received');
        } catch (err) {
          if (!isTegamiError(err) || err.kind === 'internal') throw err;
          // replyFor (inbound/replies.ts) maps the kind to the reply (invalid/unprocessable 550, too_large 552);
          // the code goes into the text so the reporter's postmaster sees why.
          throw new TegamiError(err.code, `${err.code} ${err.message}`.slice(0, 300));
        }
      };
    },
  };
}
