import type { Classification } from './classify.js';
import { arfFromTree, addressesIn, lookalikeComplaint, type ArfReport } from './arf.js';
import { autoReplyReason, BOUNCE_SENDER } from './autoreply.js';
import { classifyBounce } from './classify-bounce.js';
import { addressFromField, diagnosticFromField, hostFromField, parseDsnFields, type DsnFieldGroup } from './dsn-fields.js';
import { decodeWords, getHeader, getHeaders } from './mime-headers.js';
import { flatten, nodeText, parseMime, type MimeNode } from './mime-tree.js';
import { detectFormat } from './mta-format.js';
import { originalFromParts, originalFromText, type OriginalRef } from './original.js';
import { sesFromText } from './ses-mail.js';
import { notificationText, replyCodeFrom, scanTextBounce, squeeze } from './text-bounce.js';

export type { OriginalRef } from './original.js';

/** One recipient of a delivery status report. */
export interface DsnRecipient {
  /** Final-Recipient, else Original-Recipient; domain lowercased. */
  address: string | null;
  action: string | null;
  /** Enhanced status code (RFC 3463), e.g. 5.1.1. */
  status: string | null;
  diagnostic: string | null;
  remoteMta: string | null;
  /** SMTP reply code read from the diagnostic (550), or null. */
  replyCode: number | null;
  /** Original-Recipient when the DSN gives one (the address as we sent it, before forwarding). */
  originalRecipient?: string | null;
  classification: Classification;
  /** Sisimai's reason name for this failure (docs/bounce-classes.md). */
  sisimaiReason: string;
}

/** What an inbound report is. Expected outcomes are values; parsing never throws (DESIGN conventions 6). */
export type InboundReport =
  | { kind: 'dsn'; recipients: DsnRecipient[]; original: OriginalRef; reportingMta: string | null; format: string; envelopeId?: string | null }
  | ArfReport
  | { kind: 'autoreply'; original: OriginalRef | null; reason: string; from: string | null }
  | { kind: 'unknown'; reason: string };

const EMPTY: OriginalRef = { messageId: null, returnPath: null, headers: {} };
const DSN_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status', 'message/x-delivery-status']);
const BOUNCE_SUBJECT = /undeliver|delivery (status|failure|failed|notification|problem|report|has failed)|returned mail|returning message|failure notice|mail delivery|non-?delivery|not (be )?delivered|could not be delivered|unable to deliver|delivery error|mail (system )?error|rejected|failed mail|bounce|are not (a )?member|mail (delivery )?fail|fail(ed|ure).{0,20}(deliver|mail|message|notice)|(deliver|message).{0,20}fail|could not send|warning: .{0,40}delay|returned to sender|未配達|リターンメール|nondeliverable|message you sent|エラー|不達|届きません|送信できません|配信(失敗|不能)|zurück|unzustellbar|non remis|no entregado/i;

// What free-text bounces say about permanence when they give no reply or status code.
const PERMANENT = /permanent (error|failure)|failed permanently|permanent fatal|fatal errors?|unrecoverable|will not be retried|given up|giving up/i;
const DELAY = /\(delay\)|has been delayed|delivery (is )?delayed|delayed mail|warning: (message|could not send)|warning message only|you do not need to resend|still being retried|will (continue to )?(be )?retr(y|ied)|not yet been delivered/i;
const TRANSIENT = /temporar(y|ily)|delayed|will (be )?retr(y|ied)|deferred|not yet been delivered/i;

/**
 * Parses an inbound report (bounce, DSN, ARF complaint, auto-reply). Never throws: input the parser
 * cannot read becomes `{ kind: 'unknown' }` with the reason.
 */
export function parseInboundReport(raw: Buffer): InboundReport {
  try {
    return parseInboundReportStrict(raw);
  } catch (e) {
    return { kind: 'unknown', reason: `unreadable report: ${(e as Error).message}`.slice(0, 200) };
  }
}

/** The same, letting exceptions through (the fuzz test calls this so that bugs cannot hide). */
export function parseInboundReportStrict(raw: Buffer): InboundReport {
  const root = parseMime(raw);
  const arf = arfFromTree(root) ?? lookalikeComplaint(root);
  if (arf) return arf;
  const text = mainText(root);
  const ses = text.includes('{"notificationType"') ? sesFromText(text) : null;
  if (ses?.kind === 'arf') return ses;
  if (ses) {
    const recipients = ses.recipients.map((r) => build(r.address, r.action, r.status, r.diagnostic, null, null));
    return { kind: 'dsn', recipients, original: ses.original, reportingMta: ses.reportingMta, format: 'amazonses' };
  }
  const dsn = dsnFromParts(root, text);
  if (dsn) return dsn;
  // DMARC failure reports in free text (Exim's "DMARC Forensic Report") are for the domain owner,
  // not about a recipient: neither a bounce nor a complaint.
  if (/\bDMARC (forensic|failure) report\b/i.test(decodeWords(getHeader(root.headers, 'subject') ?? '')) || /failed the published DMARC policy/i.test(text.slice(0, 4000))) {
    return { kind: 'unknown', reason: 'DMARC failure report without a feedback-report part' };
  }
  const auto = autoReplyReason(root, text);
  if (auto) {
    const from = addressesIn(getHeader(root.headers, 'from') ?? '')[0] ?? null;
    return { kind: 'autoreply', original: originalFromParts(root) ?? quotedOriginal(root), reason: auto, from };
  }
  // RFC 3834 "auto-generated" mail that does not look like a bounce (ticket acknowledgements,
  // notifications) is automatic but not a failure report.
  const from = getHeader(root.headers, 'from') ?? '';
  if (/^auto-generated/i.test((getHeader(root.headers, 'auto-submitted') ?? '').trim()) && !BOUNCE_SENDER.test(from) && !BOUNCE_SUBJECT.test(decodeWords(getHeader(root.headers, 'subject') ?? ''))) {
    return { kind: 'autoreply', original: originalFromParts(root) ?? quotedOriginal(root), reason: 'auto-submitted auto-generated', from: addressesIn(from)[0] ?? null };
  }
  return textBounce(root, text) ?? { kind: 'unknown', reason: 'not a bounce, complaint or auto-reply' };
}

/** The human-readable text: the first text part outside enclosed messages. */
function mainText(root: MimeNode): string {
  const leaf = flatten(root).find((n) => n.ct.type === 'text/plain' || n.ct.type === 'text') ??
    flatten(root).find((n) => n.ct.type.startsWith('text/') && !n.ct.type.includes('rfc822'));
  if (!leaf) return root.children.length ? '' : nodeText(root, 128 * 1024);
  const t = nodeText(leaf, 128 * 1024);
  return leaf.ct.type === 'text/html' ? htmlToText(t) : t;
}

function htmlToText(html: string): string {
  // [^<>] keeps a run of unclosed "<" linear: each attempt stops at the next "<".
  return html.slice(0, 128 * 1024).replace(/<(br|p|div|tr|li)\b[^<>]{0,200}>/gi, '\n').replace(/<[^<>]{0,500}>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function quotedOriginal(root: MimeNode): OriginalRef | null {
  return originalFromText(flatten(root).filter((n) => n.ct.type.startsWith('text/')).map((n) => nodeText(n, 64 * 1024)).join('\n'));
}

function reportOriginal(root: MimeNode, text: string): OriginalRef {
  return originalFromParts(root) ?? originalFromText(text) ?? quotedOriginal(root) ?? EMPTY;
}

/** Addresses that are never the failed recipient: the report's own From/To and the original sender. */
function ownAddresses(root: MimeNode, original: OriginalRef): Set<string> {
  const out = new Set<string>();
  for (const v of [getHeader(root.headers, 'from'), getHeader(root.headers, 'to'), getHeader(root.headers, 'return-path'), original.headers.from, original.returnPath]) {
    for (const a of addressesIn(v ?? '')) out.add(a.toLowerCase());
  }
  return out;
}

function formatOf(root: MimeNode, text: string, hasDsnPart: boolean): string {
  const headers = root.headers.map((h) => `${h.name}: ${h.value}`).join('\n');
  return detectFormat({ from: getHeader(root.headers, 'from') ?? '', subject: decodeWords(getHeader(root.headers, 'subject') ?? ''), headers, text, hasDsnPart });
}

/** A DSN from a delivery-status part, or from DSN fields quoted in the text (Amazon WorkMail). */
function dsnFromParts(root: MimeNode, text: string): InboundReport | null {
  const part = flatten(root).find((n) => DSN_TYPES.has(n.ct.type));
  let fields = part ? parseDsnFields(nodeText(part)) : null;
  if (!fields?.recipients.length) {
    // Some MTAs label the status part text/plain, or quote the fields in the notification.
    for (const t of [text, ...flatten(root).filter((n) => n.ct.type === 'text/plain').map((n) => nodeText(n, 64 * 1024))]) {
      if (!/^final-recipient:/im.test(t) || !/^(action|status):/im.test(t)) continue;
      fields = parseDsnFields(t === text ? notificationText(t) : t);
      if (fields.recipients.length) break;
    }
  }
  if (!fields?.recipients.length) return null;
  const original = withEnvelopeSender(reportOriginal(root, text), root, addressFromField(fields.message['x-postfix-sender']));
  const scanned = scanTextBounce(notificationText(text), ownAddresses(root, original));
  const recipients = fields.recipients.map((g) => recipientFromGroup(g, scanned, fields.recipients.length === 1));
  const envelopeId = fields.message['original-envelope-id']?.trim().slice(0, 200) || null;
  return { kind: 'dsn', recipients, original, reportingMta: hostFromField(fields.message['reporting-mta']), format: formatOf(root, text, !!part), envelopeId };
}

/**
 * Returned headers seldom carry a Return-Path (the final delivery adds it), but a bounce goes to
 * the original's envelope sender: Postfix names it in X-Postfix-Sender, and every MTA addresses
 * the bounce itself to it. The VERP signature check (src/domain/verp.ts) still decides trust.
 */
function withEnvelopeSender(original: OriginalRef, root: MimeNode, postfixSender: string | null): OriginalRef {
  if (original.returnPath) return original;
  const to = addressesIn(getHeader(root.headers, 'to') ?? '');
  const returnPath = postfixSender ?? (to.length === 1 ? to[0] : null);
  return returnPath ? { ...original, returnPath } : original;
}

function recipientFromGroup(g: DsnFieldGroup, scanned: { address: string; diagnostic: string }[], only: boolean): DsnRecipient {
  // A broken Final-Recipient ("rfc822; @host") with one failed address in the text: take the text's.
  const address = addressFromField(g['final-recipient']) ?? addressFromField(g['original-recipient']) ?? addressFromField(g['x-actual-recipient']) ??
    (only && scanned.length === 1 ? scanned[0].address : null);
  const fromText = scanned.find((s) => address && s.address.toLowerCase() === address.toLowerCase())?.diagnostic ?? (scanned.length === 1 ? scanned[0].diagnostic : null);
  const field = diagnosticFromField(g['diagnostic-code']);
  const diagnostic = field ?? (fromText ? squeeze(fromText).slice(0, 1500) : null);
  const action = (g.action ?? '').trim().toLowerCase().split(/[\s(;]/)[0] || null;
  const r = build(address, action, g.status ?? null, diagnostic, hostFromField(g['remote-mta']), field ? fromText : null);
  return { ...r, originalRecipient: addressFromField(g['original-recipient']) };
}

function build(address: string | null, action: string | null, statusField: string | null, diagnostic: string | null, remoteMta: string | null, extra: string | null, permanence: 'permanent' | 'transient' | null = null): DsnRecipient {
  const replyCode = diagnostic ? replyCodeFrom(diagnostic) : null;
  const c = classifyBounce({ status: statusField, replyCode, text: diagnostic ?? '', extra, action, remoteMta, recipient: address, permanence });
  return { address, action, status: c.status, diagnostic, remoteMta, replyCode, classification: c.classification, sisimaiReason: c.reason };
}

/** A free-text bounce (no delivery-status part). */
function textBounce(root: MimeNode, text: string): InboundReport | null {
  const from = getHeader(root.headers, 'from') ?? '';
  const subject = decodeWords(getHeader(root.headers, 'subject') ?? '');
  const isBounce = BOUNCE_SENDER.test(from) || BOUNCE_SUBJECT.test(subject) ||
    root.ct.params['report-type'] === 'delivery-status';
  if (!isBounce) return null;
  const original = withEnvelopeSender(reportOriginal(root, text), root, null);
  const notification = notificationText(text);
  let found = scanTextBounce(notification, ownAddresses(root, original));
  // Exim names the failed recipients in X-Failed-Recipients: that list is authoritative.
  const failed = addressesIn(getHeaders(root.headers, 'x-failed-recipients').join(', '));
  if (failed.length) {
    found = failed.map((a) => ({ address: a, diagnostic: found.find((f) => f.address.toLowerCase() === a.toLowerCase())?.diagnostic ?? (found.length === 1 ? found[0].diagnostic : squeeze(notification).slice(0, 1500)) }));
  }
  if (!found.length && original.headers.to) {
    // Mailing-list and group bounces name no address: the original's To is the one that failed.
    const to = addressesIn(original.headers.to)[0];
    if (to) found = [{ address: to, diagnostic: squeeze(notification).slice(0, 1500) }];
  }
  if (!found.length) return { kind: 'unknown', reason: 'bounce without a recognisable recipient' };
  // A free-text bounce reports a final failure unless it says it is a delay warning (then the
  // message is still queued: Action "delayed", never counted, RFC 3464 §2.3.3).
  const delayed = DELAY.test(subject) || DELAY.test(notification.slice(0, 4000));
  const permanence = !delayed && (PERMANENT.test(notification) || !TRANSIENT.test(notification)) ? 'permanent' : 'transient';
  const recipients = found.map((f) => build(f.address, delayed ? 'delayed' : 'failed', null, f.diagnostic || null, null, null, permanence));
  return { kind: 'dsn', recipients, original, reportingMta: null, format: formatOf(root, text, false) };
}
