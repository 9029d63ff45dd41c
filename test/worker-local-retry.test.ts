import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../src/transport/types.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

/**
 * A local error (the message could not be built or handed over, e.g. a database blip) asked no
 * receiver anything: it is retried in 30 s, not on the 10-minute 4xx schedule (R-BNC-3 is about
 * receivers' replies).
 */
describe.each(DIALECTS)('retry after a local error on %s', (dialect) => {
  let t: TestApp;
  let failures = 1;
  const sent: string[] = [];
  const transport: Transport = {
    kind: 'smtp',
    async send(req) {
      if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
      sent.push(req.envelope.rcptTo[0]);
      return { status: 'sent', reply: '250 ok', code: 250, enhanced: null, mx: 'test', tls: true, durationMs: 1,
        classification: { class: 'delivered', permanent: false, suppress: false, holdStream: false, ruleId: null } };
    },
    async close() {},
  };
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'], create: { transport } });
    await t.core.domains.addDomain(t.accountId, 'example.com');
  });
  afterAll(async () => { await t?.close(); });

  it('defers for 30 s with the local error, then sends', async () => {
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['blip@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    expect(r.status).toBe(202);
    const t0 = t.clock.now();
    await t.sending!.drain();
    const m = await t.api('GET', `/v1/messages/${r.json.messages[0].id}`);
    expect(m.json.status).toBe('deferred');
    const ev = m.json.events.find((e: { type: string }) => e.type === 'deferred');
    expect(ev.data).toMatchObject({ reply: 'local error: Connection terminated unexpectedly', rule: 'local-error' });
    expect(ev.data.next_attempt_at - t0).toBe(30_000);
    t.clock.advance(29_000);
    await t.sending!.drain();
    expect(sent).toEqual([]);
    t.clock.advance(2_000);
    await t.sending!.drain();
    expect(sent).toEqual(['blip@example.net']);
    expect((await t.api('GET', `/v1/messages/${r.json.messages[0].id}`)).json.status).toBe('sent');
  });
});
