import { describe, expect, it } from 'vitest';
import { mapEvent, mapHistory, type EventSourceRow } from '../src/webhooks/event-map.js';

const row = (type: string, data: object, extra: Partial<EventSourceRow> = {}): EventSourceRow => ({
  id: 7, account_id: 'acc', message_id: 3, campaign_id: 'cmp', type, data: JSON.stringify(data), created_at: Date.UTC(2026, 10, 23),
  rcpt: 'a@example.net', header_message_id: '<m@example.com>', list_id: 'lst', category: 'subscription', message_campaign_id: 'cmp', ...extra,
});
const body = (p: string) => JSON.parse(p);

describe('mapping outbox rows to webhook events (issue 10)', () => {
  it('a sent event is `sent` (next hop); with the direct-MX transport also `delivered`, each with its own stable source', () => {
    const smtp = mapEvent(row('sent', { mx: 'smtp.relay.example', worker: 'w1', code: 250 }), 'smtp');
    expect(smtp.map((e) => [e.type, e.source])).toEqual([['sent', 'ev:7']]);
    expect(body(smtp[0].payload)).toMatchObject({ type: 'sent', timestamp: '2026-11-23T00:00:00.000Z', data: { next_hop: 'smtp.relay.example', message: { id: '3', rcpt: 'a@example.net', message_id: '<m@example.com>' } } });
    expect(body(smtp[0].payload).data.details).toEqual({ mx: 'smtp.relay.example', code: 250 });
    const mx = mapEvent(row('sent', { mx: 'mx1.example.net' }), 'mx');
    expect(mx.map((e) => [e.type, e.source])).toEqual([['sent', 'ev:7'], ['delivered', 'ev:7:delivered']]);
    expect(mapEvent(row('sent', { mx: 'capture' }), 'mx').map((e) => e.type)).toEqual(['sent']);
  });

  it('failed is reported as bounced with failed: true; the other types map one to one; unknown types map to nothing', () => {
    expect(body(mapEvent(row('failed', { reason: 'retries_exhausted' }), 'mx')[0].payload)).toMatchObject({ type: 'bounced', data: { failed: true } });
    expect(body(mapEvent(row('bounced', {}), 'mx')[0].payload)).toMatchObject({ type: 'bounced', data: { failed: false } });
    for (const t of ['deferred', 'complained', 'skipped', 'delivered']) expect(mapEvent(row(t, {}), 'smtp').map((e) => e.type)).toEqual([t]);
    expect(mapEvent(row('held', {}), 'smtp')).toEqual([]);
    const alert = mapEvent(row('alert', { kind: 'spam_rate_paused', rate: 0.004 }, { message_id: null }), 'smtp');
    expect(body(alert[0].payload)).toMatchObject({ type: 'alert', data: { kind: 'spam_rate_paused', details: { rate: 0.004 } } });
    expect(mapEvent(row('deferred', {}, { data: 'not json' }), 'smtp')[0].payload).toContain('"raw":"not json"');
  });

  it('unsubscribe adds and their removal are unsubscribed / resubscribed; other ledger changes are not repeated', () => {
    const h = { id: 9, account_id: 'acc', address_key: 'a@example.net', scope: 'list', list_id: 'lst', source: 'one-click', note: null, created_at: 0 };
    expect(mapHistory({ ...h, action: 'add', reason: 'unsubscribe' }).map((e) => [e.type, e.source])).toEqual([['unsubscribed', 'sh:9']]);
    expect(mapHistory({ ...h, action: 'remove', reason: 'unsubscribe' }).map((e) => e.type)).toEqual(['resubscribed']);
    for (const reason of ['hard_bounce', 'complaint', 'manual']) {
      expect(mapHistory({ ...h, action: 'add', reason })).toEqual([]);
      expect(mapHistory({ ...h, action: 'remove', reason })).toEqual([]);
    }
  });
});
