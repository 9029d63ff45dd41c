import type { Deps } from '../app/deps.js';
import { parseInboundReport } from '../bounce/parse-report.js';
import type { Core } from '../core/index.js';
import { bouncesRepo } from '../store/bounces-repo.js';
import { ourDomain, type InboundSession, type RecipientHandler } from './inbound-server.js';
import { reportMatcher } from './report-matcher.js';
import { outcomesFor } from './report-outcomes.js';

/** Keeps the raw report first, so that whatever happens next it can be read and downloaded. */
function saveRaw(deps: Deps, kind: string, rcpt: string, accountId: string | null, raw: Buffer, s: InboundSession) {
  return bouncesRepo(deps.store).saveRaw({
    account_id: accountId, kind, mail_from: s.mailFrom, rcpt_to: rcpt, remote_ip: s.remoteAddress, raw, size: raw.length, created_at: deps.clock.now(),
  });
}

/**
 * `b+<id>.<sig>@<return-path domain>`: asynchronous DSNs, auto-replies and the odd complaint
 * sent to the Return-Path (issue 5 items 1–2, R-AUTH-4). Only a correctly signed VERP address
 * of an existing message is accepted, so forged bounces cannot suppress anyone.
 */
export function verpBounceHandler(deps: Deps, core: Core): RecipientHandler {
  const match = reportMatcher(deps);
  const log = deps.log.child({ component: 'bounces' });
  return {
    name: 'verp-bounce',
    async match(local, domain) {
      if (!local.toLowerCase().startsWith('b+') || !(await ourDomain(deps, domain))) return null;
      const row = await match.byVerpLocal(local);
      if (!row) return null;
      return async (raw, s) => {
        const rawId = await saveRaw(deps, 'bounce', `${local}@${domain}`, row.account_id, raw, s);
        const report = parseInboundReport(raw);
        const outcomes = outcomesFor(report, row, rawId, report.kind === 'arf' ? 'arf' : 'dsn');
        const actions = await core.bounces.apply(outcomes);
        log.info({ account: row.account_id, message: row.id, kind: report.kind, actions }, 'report to a return path');
      };
    },
  };
}

/**
 * `<fbl local part>@<return-path domain or smtp.hostname>`: ARF complaint reports from
 * feedback loops (issue 5 item 4, RFC 5965). The original is matched by VERP Return-Path,
 * Message-ID or headers; an unmatched report is kept (account unknown) and logged.
 */
export function feedbackLoopHandler(deps: Deps, core: Core): RecipientHandler {
  const match = reportMatcher(deps);
  const log = deps.log.child({ component: 'complaints' });
  const fbl = deps.config.bounces.fblLocalPart.toLowerCase();
  return {
    name: 'feedback-loop',
    async match(local, domain) {
      if (local.toLowerCase() !== fbl || !(await ourDomain(deps, domain))) return null;
      return async (raw, s) => {
        const rawId = await saveRaw(deps, 'complaint', `${local}@${domain}`, null, raw, s);
        const report = parseInboundReport(raw);
        const original = report.kind === 'unknown' ? null : report.original;
        const row = await match.byOriginal(original);
        if (!row) {
          log.warn({ rawId, kind: report.kind }, 'feedback report matches no message of ours; kept unassigned');
          return;
        }
        await bouncesRepo(deps.store).setRawAccount(rawId, row.account_id);
        await core.bounces.apply(outcomesFor(report, row, rawId, report.kind === 'arf' ? 'arf' : 'dsn'));
      };
    },
  };
}
