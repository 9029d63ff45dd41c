import { promises as dns } from 'node:dns';
import type { Deps } from '../app/deps.js';
import { raiseAlert } from '../core/alerts.js';
import { orderKeys } from '../core/dkim-keys.js';
import { toALabel } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { bouncesRepo } from '../store/bounces-repo.js';
import { complianceStreamsRepo } from '../store/compliance-streams-repo.js';
import { domainsRepo, type DomainRow } from '../store/domains-repo.js';
import type { DomainCheck, Resolver } from './dns/types.js';

const dnsClient = new dns.Resolver({ timeout: 5000, tries: 2 });
/** node:dns in mailauth's `(name, rrtype)` shape with a 5 s timeout per try, used unless a resolver is injected. */
export const systemResolver: Resolver = (name, type) => dnsClient.resolve(name, type as 'A') as Promise<any[]>;

/** Error and warning finding ids of a check (what drift compares). */
const problems = (c: DomainCheck | null) => new Set((c?.findings ?? []).filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => f.id));

/**
 * Runs, stores and compares domain checks (issue 6 item 1). The result goes to domains.check_json
 * with status `verified` (no error finding) or `failing`; a gate DNS could not decide keeps its
 * previous value; new problems or a lost gate raise a `domain_drift` alert (R-AUTH-3 "re-check daily; alert on drift").
 */
export function domainChecks(deps: Deps, resolverOf: () => Resolver) {
  const domains = domainsRepo(deps.store);
  const streams = complianceStreamsRepo(deps.store);

  async function must(accountId: string, idOrName: string): Promise<DomainRow> {
    const d = (await domains.get(accountId, idOrName)) ?? (await domains.byName(accountId, toALabel(idOrName) ?? idOrName.toLowerCase()));
    if (!d) fail('E_NOT_FOUND', 'domain not found');
    return d;
  }

  async function run(d: DomainRow): Promise<DomainCheck> {
    const now = deps.clock.now();
    const keys = orderKeys(await domains.keys(d.account_id, d.id));
    // The DNS checks (mailauth's SPF/DMARC parts) load on the first check, not in every worker.
    const { runDomainCheck } = await import('./dns/domain-check.js');
    const check = await runDomainCheck(resolverOf(), deps.config, d, keys, now);
    const prev = d.check_json ? (JSON.parse(d.check_json) as DomainCheck) : null;
    if (check.gates.dkim === null) check.gates.dkim = prev?.gates.dkim ?? null;
    if (check.gates.dmarc === null) check.gates.dmarc = prev?.gates.dmarc ?? null;
    await streams.saveCheck(d.account_id, d.id, {
      check_json: JSON.stringify(check), checked_at: now, status: check.ok ? 'verified' : 'failing',
      verified_at: d.verified_at ?? (check.ok ? now : null),
    });
    if (check.ok && check.gates.dkim && check.gates.dmarc) await releaseSenderHolds(d, now);
    if (prev) {
      const before = problems(prev);
      const appeared = [...problems(check)].filter((id) => !before.has(id));
      const lost = (['dkim', 'dmarc'] as const).filter((g) => prev.gates[g] === true && check.gates[g] === false);
      if (appeared.length || lost.length) {
        await raiseAlert(deps, d.account_id, 'domain_drift', {
          domain_id: d.id, domain: d.name, new_findings: check.findings.filter((f) => appeared.includes(f.id)).map(({ id, rule, severity, message, fix }) => ({ id, rule, severity, message, fix })),
          gates_lost: lost, rule: 'R-AUTH-3',
        });
      }
    }
    return check;
  }

  /** R-BNC-4: a stream held for a sender-configuration reply resumes once the checks pass again. */
  async function releaseSenderHolds(d: DomainRow, now: number): Promise<void> {
    const b = bouncesRepo(deps.store);
    const open = (await b.listHolds(d.account_id, false)).filter((h) => h.domain_id === d.id && h.stream === 'subscription' && Number(h.created_at) <= now);
    for (const h of open) {
      if (await b.releaseHold(d.account_id, Number(h.id), 'domain-check', now)) {
        await raiseAlert(deps, d.account_id, 'stream_released', { domain_id: d.id, domain: d.name, hold_id: Number(h.id), by: 'domain-check', rule: 'R-BNC-4' });
      }
    }
  }

  return {
    /** The stored check of a domain (run first when there is none, or when `refresh`). */
    async get(accountId: string, idOrName: string, opts: { refresh?: boolean } = {}) {
      const d = await must(accountId, idOrName);
      const check = opts.refresh || !d.check_json ? await run(d) : (JSON.parse(d.check_json) as DomainCheck);
      const fresh = await must(accountId, d.id);
      return { domain_id: d.id, status: fresh.status, test_mode: !!fresh.test_mode, verified_at: fresh.verified_at, ...check };
    },
    /** Re-checks domains last checked before `before` (the periodic service); returns how many. */
    async recheckDue(before: number, limit = 50): Promise<number> {
      const due = await streams.domainsDue(before, limit);
      for (const x of due) {
        const d = await domains.get(x.account_id, x.id);
        if (!d) continue;
        await run(d).catch((err) => deps.log.error({ err, account: x.account_id, domain: x.id }, 'domain check failed'));
      }
      return due.length;
    },
  };
}
