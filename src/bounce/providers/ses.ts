import { createPublicKey, verify } from 'node:crypto';
import { parseJson, str, type ProviderEvent, type ProviderParse, type ProviderRequest } from './types.js';

/** Fetches the PEM certificate an SNS message names (cached by the caller; injected in tests). */
export type CertFetcher = (url: string) => Promise<string>;

/** Only Amazon's SNS hosts may serve signing certificates (otherwise anyone could sign). */
export function validCertUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname) && url.pathname.endsWith('.pem');
  } catch {
    return false;
  }
}

/** The string SNS signs: selected keys, each as `Key\nValue\n`, in this order (AWS SNS docs). */
function canonical(m: Record<string, unknown>): string {
  const keys = m.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys.filter((k) => m[k] !== undefined && m[k] !== null).map((k) => `${k}\n${String(m[k])}\n`).join('');
}

/**
 * Amazon SES notifications through SNS: the SNS signature is verified (SignatureVersion 1 =
 * SHA1withRSA, 2 = SHA256withRSA) with the certificate from an Amazon host; a
 * SubscriptionConfirmation yields the URL to visit; a Notification carries SES Bounce,
 * Complaint or Delivery JSON. The hook's secret, when set, is the only TopicArn accepted.
 */
export async function parseSes(req: ProviderRequest, fetchCert: CertFetcher): Promise<ProviderParse> {
  const m = parseJson(req.body) as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || typeof m.Type !== 'string') return { ok: false, status: 400, reason: 'not an SNS message' };
  const certUrl = str(m.SigningCertURL);
  const sig = str(m.Signature);
  if (!certUrl || !sig || !validCertUrl(certUrl)) return { ok: false, status: 401, reason: 'missing or foreign signing certificate' };
  if (req.secret && m.TopicArn !== req.secret) return { ok: false, status: 401, reason: 'unexpected topic' };
  let good = false;
  try {
    const key = createPublicKey(await fetchCert(certUrl));
    good = verify(m.SignatureVersion === '2' ? 'sha256' : 'sha1', Buffer.from(canonical(m)), key, Buffer.from(sig, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, status: 401, reason: 'bad signature' };
  if (m.Type === 'SubscriptionConfirmation') {
    const u = str(m.SubscribeURL);
    if (!u || !/^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(u)) return { ok: false, status: 400, reason: 'bad SubscribeURL' };
    return { ok: true, events: [], confirmUrl: u };
  }
  if (m.Type !== 'Notification') return { ok: true, events: [] };
  const n = typeof m.Message === 'string' ? (parseJson(Buffer.from(m.Message)) as Record<string, any> | null) : null;
  if (!n) return { ok: false, status: 400, reason: 'notification without SES JSON' };
  const type = str(n.notificationType) ?? str(n.eventType);
  const mid = str(n.mail?.commonHeaders?.messageId);
  const key = String(m.MessageId ?? '');
  const events: ProviderEvent[] = [];
  if (type === 'Bounce') {
    const b = n.bounce ?? {};
    const permanence = b.bounceType === 'Permanent' ? 'permanent' : b.bounceType === 'Transient' ? 'transient' : 'unknown';
    for (const r of (Array.isArray(b.bouncedRecipients) ? b.bouncedRecipients : []).slice(0, 1000)) {
      const address = str(r?.emailAddress);
      if (!address) continue;
      const st = str(r.status);
      const code = /(?:^|\D)([245]\d\d)(?:\D|$)/.exec(String(r.diagnosticCode ?? ''))?.[1];
      events.push({ key: `${key}:${address}`, kind: 'bounce', address, messageId: mid, code: code ? Number(code) : null, status: st && /^\d\.\d{1,3}\.\d{1,3}$/.test(st) ? st : null, diagnostic: str(r.diagnosticCode) ?? str(b.bounceSubType), permanence });
    }
  } else if (type === 'Complaint') {
    const c = n.complaint ?? {};
    for (const r of (Array.isArray(c.complainedRecipients) ? c.complainedRecipients : []).slice(0, 1000)) {
      const address = str(r?.emailAddress);
      if (address) events.push({ key: `${key}:${address}`, kind: 'complaint', address, messageId: mid, code: null, status: null, diagnostic: str(c.userAgent), permanence: 'unknown', feedbackType: str(c.complaintFeedbackType) ?? 'abuse' });
    }
  } else if (type === 'Delivery') {
    for (const address of (Array.isArray(n.delivery?.recipients) ? n.delivery.recipients : []).slice(0, 1000)) {
      if (typeof address === 'string') events.push({ key: `${key}:${address}`, kind: 'delivery', address, messageId: mid, code: null, status: null, diagnostic: null, permanence: 'unknown' });
    }
  }
  return { ok: true, events };
}
