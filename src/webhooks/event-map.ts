import type { WebhookEventType } from './signing.js';

/** An `events` row with its message's fields, as the fan-out reads it. */
export interface EventSourceRow {
  id: number; account_id: string; message_id: number | null; campaign_id: string | null; type: string; data: string | null; created_at: number;
  rcpt: string | null; header_message_id: string | null; list_id: string | null; category: string | null; message_campaign_id: string | null;
}

/** A `suppression_history` row. */
export interface HistorySourceRow {
  id: number; account_id: string; address_key: string; action: string; scope: string; list_id: string;
  reason: string | null; source: string; note: string | null; created_at: number;
  /** Set on the copy of a bulk-imported entry's add, written when the entry is removed (migration 008). */
  import_id?: string | null;
}

/** One webhook event derived from a source row; `source` is stable, so a re-run fans out nothing twice. */
export interface WebhookEvent {
  accountId: string;
  source: string;
  type: WebhookEventType;
  createdAt: number;
  /** The JSON body, fixed once: every retry sends the same bytes. */
  payload: string;
}

// Internal bookkeeping of the send path that receivers have no use for.
const PRIVATE_FIELDS = new Set(['worker']);

function parse(data: string | null): Record<string, unknown> {
  if (!data) return {};
  try {
    const v = JSON.parse(data);
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : { value: v };
  } catch {
    return { raw: data };
  }
}

function body(type: string, createdAt: number, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: new Date(createdAt).toISOString(), data });
}

/**
 * Maps an `events` row to webhook events (docs/webhooks.md has the table):
 * sent → `sent` (accepted by the next hop: the smarthost, the recipient's MX, or local capture);
 * with the direct-MX transport also `delivered` (the recipient domain's MX accepted it, the last
 * hop SMTP can see); `delivered` rows (DSN success reports) → `delivered`; deferred → `deferred`;
 * bounced → `bounced`; failed (retries exhausted, or a message that cannot be built) → `bounced`
 * with `failed: true`; complained → `complained`; skipped → `skipped`; alert → `alert`.
 */
export function mapEvent(e: EventSourceRow, transportKind: string): WebhookEvent[] {
  const d = parse(e.data);
  for (const k of PRIVATE_FIELDS) delete d[k];
  const createdAt = Number(e.created_at);
  const src = `ev:${e.id}`;
  const make = (type: WebhookEventType, data: Record<string, unknown>, suffix = ''): WebhookEvent =>
    ({ accountId: e.account_id, source: src + suffix, type, createdAt, payload: body(type, createdAt, data) });
  if (e.type === 'alert') {
    const { kind, ...rest } = d;
    return [make('alert', { event_id: String(e.id), kind: kind ?? null, campaign_id: e.campaign_id, details: rest })];
  }
  const message = e.message_id == null ? null : {
    id: String(e.message_id), message_id: e.header_message_id, rcpt: e.rcpt, campaign_id: e.campaign_id ?? e.message_campaign_id,
    list_id: e.list_id, category: e.category,
  };
  const data = (extra: Record<string, unknown> = {}) => ({ event_id: String(e.id), message, ...extra, details: d });
  switch (e.type) {
    case 'sent': {
      const out = [make('sent', data({ next_hop: d.mx ?? null }))];
      if (transportKind === 'mx' && d.mx && d.mx !== 'capture') out.push(make('delivered', data({ next_hop: d.mx, basis: 'accepted by the recipient MX' }), ':delivered'));
      return out;
    }
    case 'delivered': return [make('delivered', data({ basis: 'delivery status notification' }))];
    case 'deferred': return [make('deferred', data())];
    case 'bounced': return [make('bounced', data({ failed: false }))];
    case 'failed': return [make('bounced', data({ failed: true }))];
    case 'complained': return [make('complained', data())];
    case 'skipped': return [make('skipped', data())];
    default: return [];
  }
}

/**
 * Maps a suppression history row: an `add` with reason unsubscribe → `unsubscribed`; a `remove`
 * of an unsubscribe entry → `resubscribed`. Other reasons (bounces, complaints) arrive as their
 * own message events, so they are not repeated here. Bulk imports write no history row per
 * address, so they fan out no `unsubscribed` events; the copy of an imported entry's add that a
 * removal writes (import_id set) is history, not a new unsubscribe, and fans out nothing either.
 */
export function mapHistory(h: HistorySourceRow): WebhookEvent[] {
  const createdAt = Number(h.created_at);
  if (h.action === 'add' && h.import_id) return [];
  let type: WebhookEventType | null = null;
  if (h.action === 'add' && h.reason === 'unsubscribe') type = 'unsubscribed';
  else if (h.action === 'remove' && h.reason === 'unsubscribe') type = 'resubscribed';
  if (!type) return [];
  const data = { history_id: String(h.id), address: h.address_key, scope: h.scope, list_id: h.list_id || null, source: h.source, note: h.note };
  return [{ accountId: h.account_id, source: `sh:${h.id}`, type, createdAt, payload: body(type, createdAt, data) }];
}
