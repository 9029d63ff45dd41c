import { createHmac, randomBytes } from 'node:crypto';

/** Event types an endpoint can subscribe to (issue 10). `test` pings are sent whatever the filter. */
export const EVENT_TYPES = ['sent', 'delivered', 'deferred', 'bounced', 'complained', 'unsubscribed', 'resubscribed', 'skipped', 'alert'] as const;
/** One webhook event type. */
export type WebhookEventType = (typeof EVENT_TYPES)[number];

/** A new signing secret in the Standard Webhooks form `whsec_<base64 of 32 random bytes>`. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The key bytes of a `whsec_` secret, or null when it is not one (24 to 64 bytes). */
export function secretKey(secret: string): Buffer | null {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!m) return null;
  const key = Buffer.from(m[1], 'base64');
  return key.length >= 24 && key.length <= 64 ? key : null;
}

/**
 * The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret,
 * space-separated; during a rotation both the new and the previous secret sign (Standard Webhooks).
 */
export function signatureHeader(secrets: string[], webhookId: string, timestampSec: number, body: string): string {
  return secrets.map((s) => {
    const key = secretKey(s);
    if (!key) throw new Error('not a whsec_ secret');
    return `v1,${createHmac('sha256', key).update(`${webhookId}.${timestampSec}.${body}`).digest('base64')}`;
  }).join(' ');
}
