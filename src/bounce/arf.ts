import { decodeWords, getHeader, getHeaders, parseHeaderBlock, type HeaderField } from './mime-headers.js';
import { flatten, nodeText, type MimeNode } from './mime-tree.js';
import { addressFromField, cleanAddress } from './dsn-fields.js';
import { findAddresses } from './text-bounce.js';
import { originalFromFields, originalFromParts, originalFromText, type OriginalRef } from './original.js';

/** A feedback report (RFC 5965; RFC 6591 auth-failure; RFC 6430 not-spam). */
export interface ArfReport {
  kind: 'arf';
  /** Lowercased Feedback-Type: abuse, fraud, other, virus, auth-failure, not-spam, opt-out, … */
  feedbackType: string;
  original: OriginalRef;
  /** Original-Rcpt-To values, else the original To (R-CMPL-3: the complainer to suppress). */
  recipients: string[];
  sourceIp: string | null;
  userAgent: string | null;
  reportedDomain: string | null;
  arrivalDate: string | null;
}

const EMPTY_ORIGINAL: OriginalRef = { messageId: null, returnPath: null, headers: {} };

/** The report from a `message/feedback-report` part anywhere in the tree (also base64 inside multipart/mixed), or null. */
export function arfFromTree(root: MimeNode): ArfReport | null {
  const top = flatten(root);
  // A report forwarded as an attachment (message/rfc822) counts too, unless this is a bounce whose
  // returned original happens to be a report.
  const isBounce = top.some((n) => n.ct.type === 'message/delivery-status' || n.ct.type === 'message/global-delivery-status');
  const part = top.find((n) => n.ct.type === 'message/feedback-report') ??
    (isBounce ? undefined : flatten(root, true).find((n) => n.ct.type === 'message/feedback-report'));
  if (!part) return null;
  // The original belongs to the report that holds the part (the forwarded one, when forwarded).
  const holder = flatten(root, true).filter((n) => n.message && flatten(n.message, true).includes(part)).pop()?.message ?? root;
  const fields = parseHeaderBlock(nodeText(part, 64 * 1024).replace(/\n{2,}/g, '\n'));
  const feedbackType = (getHeader(fields, 'feedback-type') ?? '').trim().toLowerCase().split(/[\s;]/)[0] || 'abuse';
  let original = originalFromParts(holder) ?? originalFromText(textOf(holder)) ?? EMPTY_ORIGINAL;
  // Original-Mail-From is the envelope sender (our VERP address) when the original lost its Return-Path.
  const mailFrom = addressFromField(getHeader(fields, 'original-mail-from'));
  if (!original.returnPath && mailFrom) original = { ...original, returnPath: mailFrom };
  return {
    kind: 'arf',
    feedbackType,
    original,
    recipients: recipientsOf(fields, original),
    sourceIp: ipOf(getHeader(fields, 'source-ip')),
    userAgent: getHeader(fields, 'user-agent'),
    reportedDomain: (getHeader(fields, 'reported-domain') ?? '').trim().toLowerCase() || null,
    arrivalDate: getHeader(fields, 'arrival-date') ?? getHeader(fields, 'received-date'),
  };
}

function recipientsOf(fields: HeaderField[], original: OriginalRef): string[] {
  const out: string[] = [];
  for (const v of getHeaders(fields, 'original-rcpt-to').flatMap((x) => x.split(/[\s,]+/))) {
    const a = addressFromField(v);
    if (a && !out.includes(a)) out.push(a);
  }
  // Microsoft JMRP names the complainer in the original's X-HmXmrOriginalRecipient, not in the report.
  const fallback = original.headers['x-hmxmroriginalrecipient'] ?? original.headers.to;
  if (!out.length && fallback) for (const a of addressesIn(fallback)) if (!out.includes(a)) out.push(a);
  return out.slice(0, 100);
}

/** Addresses in an address-list header value (display names and groups ignored). */
export function addressesIn(value: string): string[] {
  const out: string[] = [];
  for (const m of findAddresses(value.slice(0, 8192), 100)) {
    const a = cleanAddress(m.token.replace(/[.-]+$/, ''));
    if (a) out.push(a);
  }
  return out;
}

function ipOf(v: string | null): string | null {
  if (!v) return null;
  const t = v.trim().split(/[\s(]/)[0].replace(/^\[|\]$/g, '');
  return t || null;
}

function textOf(root: MimeNode): string {
  const leaf = flatten(root).find((n) => n.ct.type.startsWith('text/plain')) ?? root;
  return nodeText(leaf, 64 * 1024);
}

const COMPLAINT_SUBJECT = /\b(complaint|abuse report|spam report|reported as spam|feedback loop)\b/i;

/**
 * Complaints without a feedback-report part. A multipart complaint that encloses the original
 * (Hotmail's old "complaint about message from" reports) is abuse; an Apple Mail unsubscribe
 * (X-Apple-Unsubscribe) is opt-out. Both carry no ARF fields, so only the original identifies them.
 */
export function lookalikeComplaint(root: MimeNode): ArfReport | null {
  const subject = decodeWords(getHeader(root.headers, 'subject') ?? '');
  if (/^true$/i.test(getHeader(root.headers, 'x-apple-unsubscribe') ?? '')) {
    const from = addressesIn(getHeader(root.headers, 'from') ?? '');
    return { kind: 'arf', feedbackType: 'opt-out', original: EMPTY_ORIGINAL, recipients: from.slice(0, 1), sourceIp: null, userAgent: null, reportedDomain: null, arrivalDate: null };
  }
  if (!COMPLAINT_SUBJECT.test(subject) || !root.ct.type.startsWith('multipart/')) return null;
  const original = originalFromParts(root);
  if (!original) return null;
  return {
    kind: 'arf', feedbackType: 'abuse', original, recipients: original.headers.to ? addressesIn(original.headers.to).slice(0, 100) : [],
    sourceIp: null, userAgent: null, reportedDomain: null, arrivalDate: getHeader(root.headers, 'date'),
  };
}

