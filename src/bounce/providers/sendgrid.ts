import { createPublicKey, verify } from 'node:crypto';
import { header, parseJson, str, type ProviderEvent, type ProviderParse, type ProviderRequest } from './types.js';

const MAX_SKEW_MS = 15 * 60_000;

/**
 * SendGrid's signed Event Webhook: ECDSA (P-256, SHA-256) over timestamp + raw body, signature
 * and timestamp in X-Twilio-Email-Event-Webhook-* headers, the verification key (base64 DER
 * SPKI, from the SendGrid console) as the hook's secret.
 */
export function parseSendgrid(req: ProviderRequest): ProviderParse {
  const sig = header(req.headers, 'x-twilio-email-event-webhook-signature');
  const ts = header(req.headers, 'x-twilio-email-event-webhook-timestamp');
  if (!sig || !ts || !req.secret) return { ok: false, status: 401, reason: 'missing signature' };
  if (!/^\d{1,12}$/.test(ts) || Math.abs(req.now - Number(ts) * 1000) > MAX_SKEW_MS) return { ok: false, status: 401, reason: 'stale timestamp' };
  let good = false;
  try {
    const key = createPublicKey({ key: Buffer.from(req.secret, 'base64'), format: 'der', type: 'spki' });
    good = verify('sha256', Buffer.concat([Buffer.from(ts), req.body]), key, Buffer.from(sig, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, status: 401, reason: 'bad signature' };
  const j = parseJson(req.body);
  if (!Array.isArray(j)) return { ok: false, status: 400, reason: 'expected a JSON array of events' };
  const events: ProviderEvent[] = [];
  for (const e of j.slice(0, 10_000) as Array<Record<string, unknown>>) {
    const address = str(e?.email);
    if (!address) continue;
    const smtpId = str(e['smtp-id']);
    const status = str(e.status);
    const base = { key: str(e.sg_event_id) ?? `${str(e.sg_message_id)}:${e.event}:${address}`, address, messageId: smtpId, code: null, status: status && /^\d\.\d{1,3}\.\d{1,3}$/.test(status) ? status : null, diagnostic: str(e.reason) ?? str(e.response) };
    switch (e.event) {
      case 'bounce': events.push({ ...base, kind: 'bounce', permanence: e.type === 'blocked' ? 'unknown' : 'permanent' }); break;
      case 'dropped': if (/bounced address|invalid/i.test(String(e.reason ?? ''))) events.push({ ...base, kind: 'bounce', permanence: 'permanent' }); break;
      case 'deferred': events.push({ ...base, kind: 'delay', permanence: 'transient' }); break;
      case 'spamreport': events.push({ ...base, kind: 'complaint', permanence: 'unknown', feedbackType: 'abuse' }); break;
      case 'delivered': events.push({ ...base, kind: 'delivery', permanence: 'unknown' }); break;
      default: break;
    }
  }
  return { ok: true, events };
}
