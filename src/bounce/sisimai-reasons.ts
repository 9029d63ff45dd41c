import type { BounceClass } from './classify.js';

/**
 * Every Sisimai reason (https://libsisimai.org/en/reason/) mapped to a tegami class and action.
 * The same table is in docs/bounce-classes.md; test/bounce-sisimai-table.test.ts keeps them equal.
 * `suppress`: suppress the recipient at once (R-BNC-2). `count`: counts toward the consecutive
 * soft-bounce limit (soft_bounce_limit). `hold`: a sender-side fault, hold the stream and alert,
 * never suppress the recipient (R-BNC-4). `backoff`: slow down for the destination (R-BNC-3).
 */
export interface ReasonAction {
  class: BounceClass;
  suppress: boolean;
  count: boolean;
  hold: boolean;
  backoff: boolean;
  note: string;
}

const r = (cls: BounceClass, flags: string, note: string): ReasonAction => ({
  class: cls, suppress: flags.includes('S'), count: flags.includes('C'), hold: flags.includes('H'), backoff: flags.includes('B'), note,
});

/** The reason table (alphabetical). */
export const SISIMAI_REASONS: Record<string, ReasonAction> = {
  authfailure: r('sender_config', 'H', 'SPF/DKIM/DMARC failure of our mail: fix the domain, never the recipient'),
  badreputation: r('policy', 'HB', 'IP or domain reputation too low: hold and slow down'),
  blocked: r('policy', 'H', 'sending IP or host blocked (blocklist, ISP policy): hold, alert'),
  contenterror: r('content', '', 'the message itself was refused (8-bit data, MIME, attachment): fix the message'),
  delivered: r('delivered', '', 'success DSN: resets the soft-bounce count'),
  emailtoolong: r('hard_bounce', 'S', 'address longer than the receiver accepts: invalid input, suppress'),
  exceedlimit: r('content', '', 'message larger than the recipient accepts: fix the message'),
  expired: r('soft_bounce', 'C', 'gave up after retries (transient reasons): counted'),
  failedstarttls: r('sender_config', 'H', 'TLS negotiation failed or required: fix the transport'),
  feedback: r('policy', '', 'complaint (ARF): handled by the complaint path, suppress account-wide (R-CMPL-3)'),
  filtered: r('hard_bounce', 'S', 'recipient-side filter or preference refuses our mail: stop sending'),
  hasmoved: r('hard_bounce', 'S', 'mailbox moved without forwarding (5.1.6)'),
  hostunknown: r('hard_bounce', 'S', 'recipient domain does not exist (5.1.2)'),
  mailboxfull: r('mailbox_full', 'C', 'mailbox full (4.2.2/5.2.2): counted, suppressed after the limit'),
  mailererror: r('soft_bounce', 'C', 'recipient-side program failed: counted'),
  mesgtoobig: r('content', '', 'message too big (5.3.4): fix the message'),
  networkerror: r('network', 'C', 'routing, DNS or connection problem: retried, counted when final'),
  norelaying: r('policy', 'H', 'remote host refuses to relay: our routing is wrong, hold'),
  notaccept: r('hard_bounce', 'S', 'domain accepts no mail (null MX, 5.1.10)'),
  notcompliantrfc: r('content', '', 'message not RFC 5322 compliant: fix the message'),
  onhold: r('unknown', '', 'the report did not say why: no action'),
  policyviolation: r('policy', 'H', 'refused by the receiver\'s policy: hold when systemic'),
  rejected: r('sender_config', 'H', 'our envelope sender was refused: fix the sender (a list or group refusing our posts is only recorded: rule list-post-refused)'),
  requireptr: r('sender_config', 'H', 'no or bad PTR for the sending IP (5.7.25)'),
  securityerror: r('sender_config', 'H', 'authentication or security requirement not met by our side'),
  spamdetected: r('content', '', 'judged spam: fix content, watch reputation'),
  speeding: r('rate_limited', 'HB', 'rate limit (4.7.28): back off (R-BNC-3)'),
  suppressed: r('hard_bounce', 'S', 'the sending service (SES, SendGrid) suppresses the address after earlier hard bounces'),
  suspend: r('hard_bounce', 'S', 'mailbox disabled or inactive (5.2.1 disabled)'),
  syntaxerror: r('unknown', '', 'SMTP syntax error: our MTA\'s problem, no recipient action'),
  systemerror: r('soft_bounce', 'C', 'remote system error: counted'),
  systemfull: r('soft_bounce', 'C', 'remote system full: counted'),
  toomanyconn: r('rate_limited', 'HB', 'too many connections: back off'),
  undefined: r('unknown', '', 'reason could not be decided: no action'),
  userunknown: r('hard_bounce', 'S', 'mailbox does not exist (5.1.1)'),
  vacation: r('unknown', '', 'auto-reply: never a bounce, never suppresses'),
  virusdetected: r('content', '', 'virus found in our message: fix the message'),
};

/** The action for a Sisimai reason; unknown names get the `undefined` row. */
export function reasonAction(reason: string): ReasonAction {
  return SISIMAI_REASONS[reason] ?? SISIMAI_REASONS.undefined;
}
