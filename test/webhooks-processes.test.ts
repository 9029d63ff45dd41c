import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../src/core/alerts.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { childDatabaseUrl, childEnv, startTegami, terminate, waitFor, type TegamiProcess } from './helpers/tegami-process.js';
import { startReceiver, verifyStandardWebhook } from './webhooks-receiver.js';

const N = 300;

/**
 * Issue 10: the dispatcher runs in every `tegami worker`; two worker processes share one database,
 * the event cursor and the delivery leases, and the receiver gets every event exactly once
 * (all 2xx, so no retries) with a valid signature.
 */
describe.each(DIALECTS)('webhook dispatch by two worker processes on %s (issue 10)', (dialect) => {
  let t: TestApp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => {
    rx = await startReceiver();
    t = await createTestApp(dialect, { configure: (c) => { c.webhooks.allowLocalHttp = true; } });
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
    await rx?.close();
  });

  it(`delivers ${N} events once each, with both processes running`, async () => {
    const ep = await t.api('POST', '/v1/webhooks', { url: rx.url('/procs'), event_types: ['alert'] });
    expect(ep.status, ep.body).toBe(201);
    // events must not predate the endpoint on the children's (real) clock
    t.clock.set(Date.now() + 1000);
    for (let i = 0; i < N; i++) await raiseAlert(t.deps, t.accountId, 'domain_drift', { i });
    const env = childEnv(childDatabaseUrl(t.db), t.deps.masterKey, {
      TEGAMI_WEBHOOKS_ALLOW_LOCAL_HTTP: 'true', TEGAMI_WEBHOOKS_POLL_MS: '50', TEGAMI_WEBHOOKS_BATCH_SIZE: '20', TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    procs.push(...await Promise.all([startTegami(['worker'], env), startTegami(['worker'], env)]));
    await waitFor(async () => rx.at('/procs').length >= N, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const got = rx.at('/procs');
    expect(got).toHaveLength(N);
    expect(new Set(got.map((g) => g.id)).size).toBe(N);
    expect(new Set(got.map((g) => g.json.data.details.i)).size).toBe(N);
    for (const g of got) expect(verifyStandardWebhook(ep.json.secret, g.headers, g.body, Date.now())).toBe(true);
    const rows = await t.db.db.selectFrom('webhook_deliveries').select(['status', 'attempts']).where('endpoint_id', '=', ep.json.id).execute();
    expect(rows.filter((r) => r.status === 'succeeded' && Number(r.attempts) === 1)).toHaveLength(N);
    // no failed ticks: the two processes take turns rather than erroring on each other
    expect(procs.flatMap((p) => p.warnings).filter((w) => w.msg === 'loop tick failed; retrying')).toEqual([]);
    for (const p of procs.splice(0)) expect(await terminate(p)).toBe(0);
  }, 120_000);
});
