import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../src/core/alerts.js';
import { systemClock } from '../src/domain/clock.js';
import { createDispatcher } from '../src/webhooks/dispatcher.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { startReceiver } from './webhooks-receiver.js';

const LEASE_S = 5;
const N = 10;
const DELAY_MS = 700;

/**
 * A webhook batch that takes longer than its lease (a slow endpoint: each request may take up to
 * webhooks.timeoutMs) keeps the lease while it delivers, so another worker's dispatcher claims
 * none of it and the endpoint gets every event once (issue 11). Before, deliveries still waiting
 * in the batch's pool became claimable at the lease's end and were posted twice.
 * Real time: a 5 s lease, an endpoint answering after 0.7 s, 10 deliveries one at a time.
 */
describe.each(DIALECTS)('a webhook batch that outlasts its lease on %s', (dialect) => {
  let t: TestApp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    rx = await startReceiver();
    rx.setDelay(DELAY_MS);
    t = await createTestApp(dialect, {
      roles: ['api', 'worker'],
      create: { clock: systemClock },
      configure: (c) => { Object.assign(c.webhooks, { allowLocalHttp: true, leaseSeconds: LEASE_S, concurrency: 1 }); },
    });
  });
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });

  it('is renewed while the endpoint is slow, so a second dispatcher claims none of it', async () => {
    const r = await t.api('POST', '/v1/webhooks', { url: rx.url('/slow'), event_types: ['alert'] });
    expect(r.status, r.body).toBe(201);
    for (let i = 0; i < N; i++) await raiseAlert(t.deps, t.accountId, 'domain_drift', { i });
    const mine = createDispatcher(t.deps, { owner: 'process-a' });
    const other = createDispatcher(t.deps, { owner: 'process-b' });
    expect(await mine.fanout.tick()).toBeGreaterThan(0);
    const first = mine.deliverer.tick();
    await new Promise((res) => setTimeout(res, (LEASE_S + 0.5) * 1000));
    expect(rx.at('/slow').length).toBeLessThan(N); // still delivering
    expect(await other.deliverer.tick()).toBe(0);
    expect(await first).toBe(N);
    const got = rx.at('/slow');
    expect(got).toHaveLength(N);
    expect(new Set(got.map((g) => g.id)).size).toBe(N);
    const rows = await t.db.db.selectFrom('webhook_deliveries').select(['status', 'attempts', 'lease_owner']).where('account_id', '=', t.accountId).execute();
    expect(rows).toHaveLength(N);
    expect(rows.every((d) => d.status === 'succeeded' && d.attempts === 1 && d.lease_owner === null)).toBe(true);
  }, 30_000);
});
