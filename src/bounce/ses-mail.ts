import type { ArfReport } from './arf.js';
import { cleanAddress } from './dsn-fields.js';
import { cleanMessageId, type OriginalRef } from './original.js';

/**
 * Amazon SES notifications that arrive by mail (an SNS topic with an e-mail subscription): the body
 * is the notification JSON (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html).
 * Bounce and Delivery become DSN recipients, Complaint becomes an ARF-like report. The JSON is
 * read with JSON.parse, size-capped, and every field is type-checked before use.
 */

/** One recipient from the notification, before classification. */
export interface SesRecipient {
  address: string | null;
  action: string;
  status: string | null;
  diagnostic: string | null;
}

/** The notification's content, or null when the text holds none. */
export type SesMail =
  | { kind: 'dsn'; recipients: SesRecipient[]; original: OriginalRef; reportingMta: string | null }
  | ArfReport;

const str = (v: unknown): string | null => (typeof v === 'string' && v.length <= 4096 ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, 100) : []);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Parses the first `{"notificationType": …}` object in the text. */
export function sesFromText(text: string): SesMail | null {
  const start = text.indexOf('{"notificationType"');
  if (start < 0) return null;
  const end = text.lastIndexOf('}');
  if (end <= start || end - start > 512 * 1024) return null;
  let j: Record<string, unknown>;
  try {
    j = obj(JSON.parse(text.slice(start, end + 1)));
  } catch {
    return null;
  }
  const type = str(j.notificationType);
  const original = originalOf(obj(j.mail));
  if (type === 'Bounce') {
    const b = obj(j.bounce);
    const transient = str(b.bounceType) === 'Transient';
    const recipients = arr(b.bouncedRecipients).map((x) => {
      const r = obj(x);
      return { address: cleanAddress(str(r.emailAddress) ?? ''), action: str(r.action) ?? (transient ? 'delayed' : 'failed'), status: str(r.status), diagnostic: str(r.diagnosticCode) };
    });
    return recipients.length ? { kind: 'dsn', recipients, original, reportingMta: str(b.reportingMTA)?.replace(/^dns;\s*/i, '') ?? null } : null;
  }
  if (type === 'Delivery') {
    const d = obj(j.delivery);
    const reply = str(d.smtpResponse);
    const status = reply ? /\b(2\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? '2.0.0' : '2.0.0';
    const recipients = arr(d.recipients).map((x) => ({ address: cleanAddress(str(x) ?? ''), action: 'delivered', status, diagnostic: reply }));
    return recipients.length ? { kind: 'dsn', recipients, original, reportingMta: str(d.reportingMTA) } : null;
  }
  if (type === 'Complaint') {
    const c = obj(j.complaint);
    const recipients = arr(c.complainedRecipients).map((x) => cleanAddress(str(obj(x).emailAddress) ?? '')).filter((a): a is string => !!a);
    return {
      kind: 'arf', feedbackType: (str(c.complaintFeedbackType) ?? 'abuse').toLowerCase(), original, recipients,
      sourceIp: null, userAgent: str(c.userAgent), reportedDomain: null, arrivalDate: str(c.arrivalDate) ?? str(c.timestamp),
    };
  }
  return null;
}

function originalOf(mail: Record<string, unknown>): OriginalRef {
  const headers: Record<string, string> = {};
  for (const h of arr(mail.headers)) {
    const name = str(obj(h).name)?.toLowerCase();
    const value = str(obj(h).value);
    if (name && value && ['from', 'to', 'subject', 'date', 'list-id', 'feedback-id', 'list-unsubscribe', 'message-id'].includes(name)) headers[name] ??= value;
  }
  const source = str(mail.source);
  // SES's own messageId is not the Message-ID header; prefer the header when it is there.
  return { messageId: cleanMessageId(headers['message-id'] ?? null), returnPath: source ? cleanAddress(source) : null, headers };
}
