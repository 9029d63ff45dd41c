import { cleanAddress } from './dsn-fields.js';
import { inlineOriginalStart } from './original.js';

/**
 * Free-text bounce reading (Postfix/Exim/qmail/Sendmail notification text, Gmail's and Yahoo's old
 * formats, Exchange, Japanese carriers, …). Instead of one parser per MTA it finds the failed
 * addresses in the notification (the text above the returned original) and takes, for each one,
 * the text that follows it as the diagnostic. Every MTA writes the address first and the reason
 * after it; the few that write `550 <addr>... reason` put both on one line, which also works.
 */

/** One failed recipient read from free text. */
export interface TextRecipient {
  address: string;
  diagnostic: string;
}

const MAX_TEXT = 64 * 1024;
const LOCAL = /[A-Za-z0-9._%+!#$&'*/=?^`{|}~-]/;
const DOMAIN = /[A-Za-z0-9.-]/;

/**
 * Address-shaped tokens with their offsets. Scans from each "@" outwards instead of running a
 * regex from every offset (that was the parser's hot spot), so the cost is linear in the text.
 */
export function findAddresses(text: string, max = 500): Array<{ token: string; index: number }> {
  const out: Array<{ token: string; index: number }> = [];
  let at = text.indexOf('@');
  while (at >= 0 && out.length < max) {
    let s = at;
    while (s > 0 && at - s < 64 && LOCAL.test(text[s - 1])) s--;
    let e = at + 1;
    if (e < text.length && /[A-Za-z0-9]/.test(text[e])) while (e < text.length && e - at <= 253 && DOMAIN.test(text[e])) e++;
    if (s < at && e > at + 1) out.push({ token: text.slice(s, e), index: s });
    at = text.indexOf('@', Math.max(e, at + 1));
  }
  return out;
}
// Contexts where an address is the sender or a helper, not the failed recipient.
const SENDER_BEFORE = /(mail from:?|envelope[- ]from|envelope sender:?|sender:?|(^|\n)[ \t]*from:?|f=\[|return-path:|reply-to:|send mail to|contact|(^|\n)[ \t]*cc:|to the address|received at .{0,80}\n?from)[\s<"'(]*$/i;
const RECIPIENT_BEFORE = /(^|\n)[ \t]*(?:[<"'(]|>>>\s*|recipient:?\s*<?|to:\s*<?|rcpt to:\s*<?|address(es)?:?\s*<?|user(id)?:\s*<?|delivered to:\s*<?|deliver(ing)? (your )?(mail|message) to\s*<?|failed:\s*<?|undeliverable to\s*|could not be delivered to:?\s*<?|Invalid final delivery userid:\s*)*$/i;

const CODE = /(?:^|[\s:>(\[])[45][0-5]\d(?=[\s-])|\b[45]\.\d{1,3}\.\d{1,3}\b/;
const ANCHOR = /(did not reach|failed for|delivery to) (the following|these) (recipient|address)|following (recipient|address|user)e?s?(\(e?s\))? (had|were|was|failed|could|has)|recipients? (or groups )?(failed|were affected)|following address(es)?(\(es\))? failed|delivery has failed to these/i;

/** The notification part of a free-text bounce: everything above the returned original. */
export function notificationText(text: string): string {
  // The pipeline asks for the same text's notification more than once: keep the last answer.
  if (text === lastText) return lastNotification;
  const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const lines = t.split('\n');
  const start = inlineOriginalStart(lines);
  lastText = text;
  lastNotification = start > 0 ? lines.slice(0, Math.max(0, start - 1)).join('\n') : t;
  return lastNotification;
}
let lastText = '';
let lastNotification = '';

interface Occurrence {
  address: string;
  index: number;
  end: number;
  strong: boolean;
}

/**
 * The failed recipients of a free-text notification. `exclude` holds the report's own addresses
 * (its From/To, the original sender): they are never the failed recipient.
 */
export function scanTextBounce(notification: string, exclude: Set<string>): TextRecipient[] {
  const occ: Occurrence[] = [];
  // Exchange and others first quote the original's header ("To: …") and then list the failed
  // recipients after a phrase like "did not reach the following recipient(s)": start there.
  const anchor = ANCHOR.exec(notification);
  const from = anchor ? anchor.index : 0;
  for (const m of findAddresses(notification.slice(from))) {
    if (occ.length > 500) break;
    const index = m.index + from;
    const address = cleanAddress(m.token.replace(/[.-]+$/, ''));
    if (!address || exclude.has(address.toLowerCase())) continue;
    const before = notification.slice(Math.max(0, index - 40), index);
    if (/(https?:\/\/|www\.)\S*$/i.test(before) || /=\S*$/.test(before) && /[?&]\S*$/.test(before)) continue;
    if (SENDER_BEFORE.test(before)) continue;
    const lineBefore = before.slice(before.lastIndexOf('\n') + 1);
    occ.push({ address, index, end: index + m.token.length, strong: RECIPIENT_BEFORE.test(lineBefore) || RECIPIENT_BEFORE.test(before) });
  }
  if (!occ.length) return [];
  const byAddress = new Map<string, Occurrence>();
  const strongOnly = occ.some((o) => o.strong);
  for (const o of occ) {
    const key = o.address.toLowerCase();
    if (strongOnly && !o.strong) continue;
    if (!byAddress.has(key)) byAddress.set(key, o);
  }
  const firsts = [...byAddress.values()].sort((a, b) => a.index - b.index).slice(0, 50);
  return firsts.map((o, i) => {
    const next = firsts[i + 1]?.index ?? notification.length;
    let diag = squeeze(withoutQuotedHeaders(notification.slice(o.end, next)));
    // "550 5.1.1 <addr>... User unknown", "Invalid final delivery userid: <addr>": the reason
    // sits before the address on its own line.
    const lineStart = notification.lastIndexOf('\n', o.index) + 1;
    const head = squeeze(notification.slice(lineStart, o.index));
    if (/[a-z]{3}/i.test(head)) diag = head + ' ' + diag;
    // "Could not be delivered because of 550 5.1.1 User unknown. The following recipients were
    // affected: <addr>": with one recipient and no reply after it, the reason came first.
    if (firsts.length === 1 && !CODE.test(diag)) diag = squeeze(withoutQuotedHeaders(notification.slice(0, lineStart))) + ' ' + diag;
    return { address: o.address, diagnostic: diag.slice(-1500) };
  });
}

/** Collapses white space and strips leading punctuation left over from the address. */
export function squeeze(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/^[\s>:."'),;\]]+/, '').trim();
}

const QUOTED_HEADER = /^(return-path|received|message-id|from|to|cc|subject|date|mime-version|content-[a-z-]{1,30}|x-[a-z0-9-]{1,60}|dkim-signature|arc-[a-z-]{1,20}|authentication-results|list-[a-z-]{1,20}|feedback-id|reply-to|sender|references|in-reply-to)[ \t]*:/i;

/** Drops quoted header fields (and their folded lines) from a diagnostic: they are not the reason. */
export function withoutQuotedHeaders(s: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of s.split('\n')) {
    if (QUOTED_HEADER.test(line)) { skipping = true; continue; }
    if (skipping && /^[ \t]/.test(line)) continue;
    skipping = false;
    out.push(line);
  }
  return out.join('\n');
}

/** A reply code (e.g. 550) in a diagnostic, or null. */
export function replyCodeFrom(text: string): number | null {
  // 2xx only next to a 2.x.x code: a bare "222" is more often a size or a count than a reply.
  const m = /(?:^|[\s:>"(\[;])([45][0-5]\d|2[0-5]\d(?=[ -]2\.\d))(?=[\s,-]|$)/.exec(text.slice(0, 2000));
  return m ? Number(m[1]) : null;
}
