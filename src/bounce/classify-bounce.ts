import { classifyReply, enhancedFrom, replyRule, type Classification } from './classify.js';
import { providerOf } from './provider.js';
import { decideReason, reasonAction } from './reasons.js';

/** Input for one failed (or delayed, or delivered) recipient of a report. */
export interface BounceInput {
  /** The DSN Status field as written (may carry comments), or null. */
  status: string | null;
  replyCode: number | null;
  /** Diagnostic-Code text (or, without one, the explanation). */
  text: string;
  /** The human-readable explanation, when the diagnostic came from a Diagnostic-Code field. */
  extra?: string | null;
  action: string | null;
  remoteMta: string | null;
  /** The failed recipient (its domain names the provider when the Remote-MTA is unknown). */
  recipient?: string | null;
  /** For free-text bounces without any code: what the text says about permanence. */
  permanence?: 'permanent' | 'transient' | null;
}

/** Rules of smtp-replies.txt that only say "some 4xx" or "some 5.7.x": the reason rules are more precise. */
const GENERIC = new Set(['generic-4', 'policy-7', 'network-4', 'network-5', 'rate-470']);

/** Reasons about the recipient's mailbox, which may refine an address code (R-BNC-2). */
const MAILBOX_REASONS = new Set(['mailboxfull', 'mailererror', 'suspend', 'hasmoved', 'notaccept', 'hostunknown', 'userunknown', 'filtered', 'systemfull', 'exceedlimit']);

/** Normalises a Status field to `d.ddd.ddd`; null when it holds none. */
export function normaliseStatus(v: string | null): string | null {
  const m = v ? /^\s*([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(v) : null;
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : null;
}

/**
 * Classifies one report recipient with the same rules as a synchronous SMTP reply (classifyReply,
 * rules/smtp-replies.txt), refined by the reason rules (rules/reasons.txt) where the reply rules
 * only matched a generic code. The Action decides "final or not" (RFC 3464 §2.3.3): a delayed
 * recipient is never suppressed, and a failed one with a 4.x.x status counts as a soft bounce.
 */
export function classifyBounce(i: BounceInput): { status: string | null; classification: Classification; reason: string } {
  const text = i.text.slice(0, 4000);
  let status = normaliseStatus(i.status);
  const fromText = enhancedFrom(text) ?? (i.extra ? enhancedFrom(i.extra.slice(0, 4000)) : null);
  // "Status: 5.0.0" with "550 5.1.1 …" in the diagnostic: the diagnostic is the more precise one.
  // The remote server's own code beats the reporting MTA's summary of the same class (Sendmail
  // writes "Status: 4.4.7" for a "450 4.7.1 … IP name lookup failed" it gave up on).
  const remote = enhancedFrom(text);
  if (fromText && (!status || (/^\d\.0\.0$/.test(status) && fromText[0] === status[0]))) status = fromText;
  else if (remote && status && remote !== status && remote[0] === status[0] && !/^\d\.0\.0$/.test(remote)) status = remote;
  const { reason, ruleId: reasonRule } = decideReason({ status, text, extra: i.extra, action: i.action, replyCode: i.replyCode });
  const action = (i.action ?? '').toLowerCase();
  if (reason === 'delivered') {
    return { status, reason, classification: { class: 'delivered', permanent: false, suppress: false, holdStream: false, ruleId: reasonRule } };
  }
  const hinted = i.permanence === 'permanent' ? 550 : i.permanence === 'transient' ? 450 : null;
  const code = i.replyCode ?? (status ? Number(status[0]) * 100 + 50 : hinted);
  const provider = providerOf(i.remoteMta) ?? providerOf(i.recipient);
  let c = classifyReply(code, status, text || (i.extra ?? '').slice(0, 4000), undefined, provider);
  const rule = replyRule(c.ruleId);
  // Words beat numbers for address codes only: a recipient rule that matched on the code alone
  // yields to a reason rule that matched the text ("552 … over quota (#5.1.1)", "procmail: …
  // (5.1.1)"). Sender-side codes (x.7.2x, 5.7.515, 4.7.28) keep their meaning whatever the text.
  // Only words about the mailbox itself may: a stray "virus" or "spam" in quoted headers must not
  // turn a 5.1.1 into a content verdict.
  const textReason = !!reasonRule && !reasonRule.startsWith('c-') && !reasonRule.startsWith('transient') && MAILBOX_REASONS.has(reason);
  const addressCodeOnly = !!rule && !rule.text && (rule.cls === 'hard_bounce' || rule.cls === 'mailbox_full');
  if (!rule || GENERIC.has(rule.id) || (addressCodeOnly && textReason)) {
    const a = reasonAction(reason);
    c = { class: a.class, permanent: c.permanent, suppress: a.suppress && c.permanent, holdStream: a.hold, ruleId: `reason:${reasonRule ?? reason}` };
  }
  if (action === 'delayed') c = { ...c, permanent: false, suppress: false };
  return { status, reason, classification: c };
}

/** What the pipeline does with one report recipient (docs/bounce-classes.md). */
export type BounceAction = 'suppress' | 'count' | 'hold' | 'reset' | 'none';

/**
 * The action for a classified recipient: `suppress` at once (R-BNC-2), `count` toward the
 * consecutive soft-bounce limit, `hold` the sending stream and alert without touching the
 * recipient (R-BNC-4), `reset` the soft-bounce count (a delivery), `none` (delay warnings,
 * content and unknown verdicts, rate limits the transport backs off from).
 */
export function bounceAction(r: { action: string | null; classification: Classification }): BounceAction {
  const c = r.classification;
  if (c.class === 'delivered') return 'reset';
  if ((r.action ?? '').toLowerCase() === 'delayed') return 'none';
  if (c.suppress) return 'suppress';
  if (c.holdStream) return 'hold';
  if (c.class === 'soft_bounce' || c.class === 'mailbox_full' || c.class === 'network' || c.class === 'hard_bounce') return 'count';
  return 'none';
}
