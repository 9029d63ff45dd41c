import { safeEqual } from '../../domain/secrets.js';
import { header, parseJson, str, type ProviderEvent, type ProviderParse, type ProviderRequest } from './types.js';

/** Postmark bounce types that mean the address is gone (their documented TypeCodes' names). */
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated', 'Unsubscribe', 'AddressChange']);
const SOFT = new Set(['SoftBounce', 'Transient', 'DnsError', 'AutoResponder', 'Undeliverable', 'Blocked', 'SMTPApiError']);

/**
 * Postmark webhooks: Postmark does not sign payloads, so the hook URL is protected with HTTP
 * Basic credentials that tegami generates (the secret `user:password`) and compares in constant time.
 */
export function parsePostmark(req: ProviderRequest): ProviderParse {
  const auth = header(req.headers, 'authorization');
  if (!req.secret || !auth?.startsWith('Basic ')) return { ok: false, status: 401, reason: 'missing credentials' };
  if (!safeEqual(Buffer.from(auth.slice(6), 'base64').toString('utf8'), req.secret)) return { ok: false, status: 401, reason: 'bad credentials' };
  const j = parseJson(req.body) as Record<string, unknown> | null;
  if (!j || typeof j !== 'object') return { ok: false, status: 400, reason: 'not JSON' };
  const rt = str(j.RecordType);
  const address = str(j.Email) ?? str(j.Recipient);
  if (!address) return { ok: true, events: [] };
  const key = `${rt}:${String(j.ID ?? j.MessageID ?? '')}:${address}`;
  const base = { key, address, messageId: null, code: null, status: null, diagnostic: str(j.Details) ?? str(j.Description) };
  let out: ProviderEvent | null = null;
  if (rt === 'Bounce') {
    const t = str(j.Type) ?? '';
    if (t === 'SpamComplaint' || t === 'SpamNotification') out = { ...base, kind: 'complaint', permanence: 'unknown', feedbackType: 'abuse' };
    else if (t === 'AutoResponder') return { ok: true, events: [] };
    else out = { ...base, kind: 'bounce', permanence: HARD.has(t) ? 'permanent' : SOFT.has(t) ? 'transient' : 'unknown' };
  } else if (rt === 'SpamComplaint') out = { ...base, kind: 'complaint', permanence: 'unknown', feedbackType: 'abuse' };
  else if (rt === 'Delivery') out = { ...base, kind: 'delivery', permanence: 'unknown' };
  return { ok: true, events: out ? [out] : [] };
}
