import type { Deps } from '../app/deps.js';
import { domainChecks, systemResolver } from '../compliance/domain-checks.js';
import type { Resolver } from '../compliance/dns/types.js';
import type { LintOptions } from '../compliance/lint/lint-message.js';
import { complianceReports } from '../compliance/reports.js';
import { fail } from '../domain/errors.js';

/**
 * Domain checks, lint, volume counters, bulk-sender flags, spam rate, warm-up and paused streams
 * (issue 6). The send-path parts (guard, preflight) live in src/compliance and are installed in
 * createCore's collaborators. DNS goes through one resolver: node:dns unless one is injected
 * (`useResolver`, done by the compliance service from createApp's `resolver` option, and by tests).
 */
export function complianceCore(deps: Deps & { resolver?: Resolver }) {
  let resolver: Resolver = deps.resolver ?? systemResolver;
  const checks = domainChecks(deps, () => resolver);
  const reports = complianceReports(deps);
  return {
    /** Replaces the DNS resolver (tests: fixture zones). */
    useResolver(r: Resolver) { resolver = r; },
    /** The stored domain check (run now when there is none, or with refresh). */
    checkDomain: (accountId: string, idOrName: string, opts: { refresh?: boolean } = {}) => checks.get(accountId, idOrName, opts),
    /** Re-checks domains whose last check is older than `maxAgeMs` (the periodic service). */
    recheckDue: (maxAgeMs: number, limit?: number) => checks.recheckDue(deps.clock.now() - maxAgeMs, limit),
    /** Lints raw message bytes (R-FMT-*, R-UNSUB-*, R-LIST-*, R-AUTH-6/7/8, DMARC alignment). */
    async lint(raw: Buffer, opts: Pick<LintOptions, 'key' | 'category'> = {}) {
      if (!raw.length) fail('E_VALIDATION', 'the message is empty');
      if (!/\r?\n\r?\n/.test(raw.subarray(0, 1024 * 1024).toString('latin1')) && !/^[\x21-\x39\x3b-\x7e]+:/.test(raw.toString('latin1', 0, 200))) {
        fail('E_VALIDATION', 'not an RFC 5322 message (no header fields)');
      }
      try {
        // mailparser loads on the first lint, not in every process.
        const { lintMessage } = await import('../compliance/lint/lint-message.js');
        return await lintMessage(raw, { ...opts, resolver, now: deps.clock.now() });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_OSSL_UNSUPPORTED' || /key|PEM|DER|asn1/i.test((e as Error).message)) fail('E_VALIDATION', `key: ${(e as Error).message}`);
        throw e;
      }
    },
    volume: reports.volume,
    bulkSenders: reports.bulkSenders,
    spamRate: reports.spamRate,
    warmup: reports.warmup,
    resumeStream: reports.resumeStream,
    /** Backdates a domain's warm-up start (a domain with sending history elsewhere), recorded with who and why. */
    setWarmupStart: reports.setWarmupStart,
    /** Why a campaign's queued messages are waiting (warm-up, hourly caps, paused streams): reason → count. */
    heldReasons: reports.heldReasons,
  };
}
