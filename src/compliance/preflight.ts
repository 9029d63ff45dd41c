import type { Deps } from '../app/deps.js';
import type { Config } from '../config/schema.js';
import { fail } from '../domain/errors.js';
import { isFreemailDomain } from '../domain/freemail.js';
import { domainsRepo } from '../store/domains-repo.js';
import type { DomainCheck } from './dns/types.js';
import { visibleUnsubscribeLink } from './lint/list-rules.js';
import { isReservedName } from './providers.js';

/** What the send path passes to the gates. */
export interface PreflightInput { from: string; category: 'subscription' | 'transactional'; domainId: string | null }

/**
 * True for a test domain: under an RFC 2606/6761 name that can never publish DNS, or flagged
 * test_mode while the transport only captures (a test domain's mail never leaves the machine; under
 * the smtp or mx transport a flagged domain is held to every rule).
 */
export function isTestDomain(d: { name: string; test_mode: number | boolean }, config: Config): boolean {
  return isReservedName(d.name) || (!!d.test_mode && config.transport.kind === 'capture');
}

/**
 * The preflight gates of a subscription send or campaign (issue 6 item 2, R-SCOPE-2: every
 * BULK rule from day one): refused with E_COMPLIANCE and the rule id when the From domain is a
 * mailbox provider's (R-AUTH-12), is not the account's (R-AUTH-1), or its last stored domain check
 * found no published aligned DKIM key (R-AUTH-2, R-AUTH-4) or no explicit DMARC policy (R-AUTH-3).
 * The DNS gates read the stored check (no live DNS in the send path) and are skipped for test
 * domains (isTestDomain). The visible unsubscribe link (R-UNSUB-10) is enforced by the renderer's preview
 * (E_NO_UNSUBSCRIBE_LINK), which every subscription send and campaign runs.
 */
export function compliancePreflight(deps: Deps) {
  const repo = domainsRepo(deps.store);
  return async (accountId: string, input: PreflightInput): Promise<void> => {
    const fromDomain = input.from.slice(input.from.lastIndexOf('@') + 1).toLowerCase();
    const refuse = (rule: string, message: string, extra: Record<string, unknown> = {}): never =>
      fail('E_COMPLIANCE', `${rule}: ${message}`, { rule, domain: fromDomain, ...extra });
    if (isFreemailDomain(fromDomain)) refuse('R-AUTH-12', `${fromDomain} is a mailbox provider's domain; send from your own domain`);
    if (!input.domainId) refuse('R-AUTH-1', `${fromDomain} is not a domain of this account`);
    const d = await repo.get(accountId, input.domainId!);
    if (!d) refuse('R-AUTH-1', `${fromDomain} is not a domain of this account`);
    if (isTestDomain(d!, deps.config)) return;
    if (!d!.check_json) {
      refuse('R-AUTH-2', `${d!.name} has not been checked yet: publish its records (GET /v1/domains/${d!.id}/dns), then run GET /v1/domains/${d!.id}/check?refresh=1`, { domain_id: d!.id });
    }
    const check = JSON.parse(d!.check_json!) as DomainCheck;
    const failing = (prefix: string) => check.findings.filter((f) => f.id.startsWith(prefix) && f.severity === 'error').map(({ id, rule, message, fix }) => ({ id, rule, message, fix }));
    if (check.gates.dkim !== true) {
      refuse('R-AUTH-2', `${d!.name} has no published DKIM key equal to tegami's (aligned d=${d!.name}), as of the check at ${new Date(Number(d!.checked_at)).toISOString()}`,
        { domain_id: d!.id, findings: failing('dkim.') });
    }
    if (check.gates.dmarc !== true) {
      refuse('R-AUTH-3', `${d!.name} has no DMARC record with an explicit p= policy, as of the check at ${new Date(Number(d!.checked_at)).toISOString()}`,
        { domain_id: d!.id, findings: failing('dmarc.') });
    }
  };
}

/**
 * R-UNSUB-10 on rendered subscription content (the result of `collab.preview`): throws
 * E_COMPLIANCE when the only unsubscribe link is hidden (display:none, visibility:hidden,
 * font-size:0, opacity:0) or missing. tegami's own footer always passes.
 */
export function assertVisibleUnsubscribe(rendered: { html: string | null; text: string | null }, category: string, url: string | null = null): void {
  if (category !== 'subscription') return;
  const r = visibleUnsubscribeLink(rendered, url);
  if (!r.ok) fail('E_COMPLIANCE', `R-UNSUB-10: ${r.message}`, { rule: 'R-UNSUB-10' });
}
