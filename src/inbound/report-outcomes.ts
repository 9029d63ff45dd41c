import type { InboundReport } from '../bounce/parse-report.js';
import type { BounceOutcome } from '../core/bounces.js';
import type { MessageRow } from '../store/messages-repo.js';

const NO_CLASS = { class: 'unknown' as const, permanent: false, suppress: false, holdStream: false, ruleId: null };

/** DSN actions that mean the message did not arrive (RFC 3464 §2.3.3); `delayed` is still in flight. */
function isFailure(action: string | null, status: string | null): boolean {
  const a = (action ?? '').toLowerCase();
  if (a === 'failed') return true;
  if (a === 'delivered' || a === 'relayed' || a === 'expanded' || a === 'delayed') return false;
  return !!status && /^[45]\./.test(status);
}

/**
 * RFC 5965/6650 feedback types: abuse, fraud, virus and other are complaints; opt-out is an
 * unsubscribe; not-spam and auth-failure (DMARC failure reports) suppress no one.
 */
function arfKind(feedbackType: string): 'complaint' | 'unsubscribe' | 'feedback' {
  const t = feedbackType.toLowerCase();
  if (t === 'opt-out' || t === 'unsubscribe') return 'unsubscribe';
  if (t === 'not-spam' || t === 'auth-failure') return 'feedback';
  return 'complaint';
}

/**
 * Turns a parsed report about one message of ours into outcomes for the bounce pipeline. The
 * recipient is always the address tegami sent to (the row), never an address a report names:
 * a report cannot suppress someone else (forged or forwarded reports).
 */
export function outcomesFor(report: InboundReport, row: MessageRow, rawId: number, source: string): BounceOutcome[] {
  const base = { accountId: row.account_id, message: row, address: row.rcpt, rawId, source };
  switch (report.kind) {
    case 'dsn': {
      const key = row.rcpt.toLowerCase();
      const rcpts = report.recipients;
      const mine = rcpts.find((r) => r.address?.toLowerCase() === key) ?? rcpts.find((r) => isFailure(r.action, r.status)) ?? rcpts[0];
      if (!mine) return [{ ...base, kind: 'bounce', status: null, diagnostic: 'DSN without recipients', classification: NO_CLASS }];
      const delayed = (mine.action ?? '').toLowerCase() === 'delayed';
      // A success DSN (delivered/relayed) ends the recipient's run of soft bounces.
      if (!delayed && !isFailure(mine.action, mine.status)) return [{ ...base, kind: 'delivery', status: mine.status, diagnostic: mine.diagnostic, classification: NO_CLASS }];
      return [{ ...base, kind: delayed ? 'delay' : 'bounce', status: mine.status, diagnostic: mine.diagnostic, classification: mine.classification }];
    }
    case 'arf':
      return [{ ...base, kind: arfKind(report.feedbackType), status: null, diagnostic: report.userAgent ? `reported by ${report.userAgent}` : null, classification: NO_CLASS, feedbackType: report.feedbackType }];
    case 'autoreply':
      return [{ ...base, kind: 'autoreply', status: null, diagnostic: report.reason, classification: NO_CLASS }];
    default:
      return [{ ...base, kind: 'bounce', status: null, diagnostic: `unrecognised report: ${report.reason}`, classification: NO_CLASS }];
  }
}
