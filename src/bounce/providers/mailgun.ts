import { createHmac } from 'node:crypto';
import { safeEqual } from '../../domain/secrets.js';
import { parseJson, str, type ProviderEvent, type ProviderParse, type ProviderRequest } from './types.js';

const MAX_SKEW_MS = 15 * 60_000;

/**
 * Mailgun webhooks (JSON with `signature` {timestamp, token, signature} = HMAC-SHA256 of
 * timestamp+token under the webhook signing key, and `event-data`). Old timestamps are refused
 * (replay); the token doubles as the de-duplication key.
 */
export function parseMailgun(req: ProviderRequest): ProviderParse {
  const j = parseJson(req.body) as { signature?: Record<string, unknown>; 'event-data'?: Record<string, any> } | null;
  const sig = j?.signature;
  if (!j || !sig || !req.secret) return { ok: false, status: 401, reason: 'missing signature' };
  const ts = str(sig.timestamp) ?? (typeof sig.timestamp === 'number' ? String(sig.timestamp) : null);
  const token = str(sig.token);
  const given = str(sig.signature);
  if (!ts || !token || !given || !/^\d{1,12}$/.test(ts)) return { ok: false, status: 401, reason: 'incomplete signature' };
  const want = createHmac('sha256', req.secret).update(ts + token).digest('hex');
  if (!safeEqual(want, given.toLowerCase())) return { ok: false, status: 401, reason: 'bad signature' };
  if (Math.abs(req.now - Number(ts) * 1000) > MAX_SKEW_MS) return { ok: false, status: 401, reason: 'stale timestamp' };
  const e = j['event-data'];
  if (!e || typeof e !== 'object') return { ok: false, status: 400, reason: 'no event-data' };
  const address = str(e.recipient);
  if (!address) return { ok: true, events: [] };
  const ds = (e['delivery-status'] ?? {}) as Record<string, unknown>;
  const mid = str((e.message as any)?.headers?.['message-id']);
  const base = { key: str(e.id) ?? token, address, messageId: mid, code: typeof ds.code === 'number' ? ds.code : null, status: str(ds['enhanced-code']), diagnostic: str(ds.message) ?? str(ds.description) };
  const ev = str(e.event);
  let out: ProviderEvent | null = null;
  if (ev === 'failed') out = { ...base, kind: e.severity === 'temporary' ? 'delay' : 'bounce', permanence: e.severity === 'permanent' ? 'permanent' : 'transient' };
  else if (ev === 'complained') out = { ...base, kind: 'complaint', permanence: 'unknown', feedbackType: 'abuse' };
  else if (ev === 'delivered') out = { ...base, kind: 'delivery', permanence: 'unknown' };
  return { ok: true, events: out ? [out] : [] };
}
