import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { raiseAlert } from '../src/core/alerts.js';
import { webhooksRepo } from '../src/store/webhooks-repo.js';
import type { Dispatcher } from '../src/webhooks/dispatcher.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS, itWhere } from './helpers/dialects.js';
import { startReceiver, verifyStandardWebhook } from './webhooks-receiver.js';

describe.each(DIALECTS)('webhook outbox, leases and network edges on %s (issue 10)', (dialect) => {
  let t: TestApp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let dispatcher: Dispatcher;
  const dispatch = () => dispatcher.drain();
  const create = async (path: string, types = ['alert']) => {
    const r = await t.api('POST', '/v1/webhooks', { url: rx.url(path), event_types: types });
    expect(r.status, r.body).toBe(201);
    return r.json as { id: string; secret: string };
  };
  const log = async (id: string) => (await t.api('GET', `/v1/webhooks/${id}/deliveries`)).json.items as any[];
  const remove = async (id: string) => expect((await t.api('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);

  beforeAll(async () => {
    rx = await startReceiver();
    t = await createTestApp(dialect, {
      roles: ['api', 'worker'],
      configure: (c) => { c.webhooks.allowLocalHttp = true; c.webhooks.timeoutMs = 300; c.webhooks.leaseSeconds = 30; },
    });
    dispatcher = t.services.webhooks!.info!.dispatcher as Dispatcher;
  });
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });
  beforeEach(() => rx.setResponder(() => 200));

  it('sends an endpoint only events created after it', async () => {
    await raiseAlert(t.deps, t.accountId, 'domain_drift', { when: 'before' });
    t.clock.advance(1);
    const ep = await create('/fresh');
    await raiseAlert(t.deps, t.accountId, 'domain_drift', { when: 'after' });
    await dispatch();
    expect(rx.at('/fresh').map((g) => g.json.data.details.when)).toEqual(['after']);
    await remove(ep.id);
  });

  it('a crashed worker\'s lease expires and another sends the delivery with the same id; the late worker cannot overwrite it', async () => {
    const ep = await create('/crash');
    await raiseAlert(t.deps, t.accountId, 'stream_held', { probe: 'crash' });
    await dispatcher.fanout.tick();
    const repo = webhooksRepo(t.db);
    const claimed = await repo.claimDue('dead-worker', t.clock.now(), 30_000, 100);
    expect(claimed.filter((d) => d.endpoint_id === ep.id)).toHaveLength(1);
    await dispatch();
    expect(rx.at('/crash')).toHaveLength(0);
    t.clock.advance(30_001);
    await dispatch();
    const got = rx.at('/crash');
    expect(got).toHaveLength(1);
    expect(got[0].id).toBe(claimed.find((d) => d.endpoint_id === ep.id)!.webhook_id);
    expect(verifyStandardWebhook(ep.secret, got[0].headers, got[0].body, t.clock.now())).toBe(true);
    const mine = claimed.find((d) => d.endpoint_id === ep.id)!;
    const late = await repo.recordAttempt('dead-worker', null, { status: 'failed', last_error: 'late' }, Number(mine.id));
    expect(late).toBe(false);
    expect((await log(ep.id))[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    await remove(ep.id);
  });

  it('times out a receiver that does not answer, and does not follow redirects', async () => {
    const hang = await create('/hang');
    const moved = await create('/moved');
    // the receiver never answers /hang
    rx.setResponder((r) => (r.path === '/hang' ? -1 : r.path === '/moved' ? 302 : 200));
    await raiseAlert(t.deps, t.accountId, 'stream_held', { probe: 'edges' });
    await dispatch();
    const [h] = await log(hang.id);
    expect(h).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(h.last_error).toBe('timeout after 300 ms');
    const [m] = await log(moved.id);
    expect(m).toMatchObject({ status: 'pending', last_status_code: 302, last_error: 'HTTP 302' });
    expect(rx.at('/moved')).toHaveLength(1);
    expect(rx.at('/redirected')).toHaveLength(0);
    await remove(hang.id);
    await remove(moved.id);
  });

  it('validates the receiver\'s TLS certificate (a self-signed one is a failed attempt)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tegami-wh-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    let hits = 0;
    const server = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => { hits++; res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const r = await t.api('POST', '/v1/webhooks', { url: `https://localhost:${(server.address() as AddressInfo).port}/tls`, event_types: ['alert'] });
      expect(r.status, r.body).toBe(201);
      await raiseAlert(t.deps, t.accountId, 'stream_held', { probe: 'tls' });
      await dispatch();
      const [d] = await log(r.json.id);
      expect(d).toMatchObject({ status: 'pending', last_status_code: null });
      expect(d.last_error).toMatch(/self[- ]signed/i);
      expect(hits).toBe(0);
      await remove(r.json.id);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds the cursor at an id gap until the grace period, then skips it', async () => {
    const ep = await create('/gap');
    const max = Number((await t.db.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow()).m ?? 0);
    await dispatch();
    // burn one id, as a rolled-back insert does
    if (dialect === 'postgres') await sql`select nextval('events_id_seq')`.execute(t.db.db);
    else await t.db.db.insertInto('events').values({ id: max + 2, account_id: t.accountId, message_id: null, campaign_id: null, type: 'alert', data: JSON.stringify({ kind: 'x', probe: 'after-gap' }), created_at: t.clock.now() }).execute();
    if (dialect === 'postgres') await raiseAlert(t.deps, t.accountId, 'domain_drift', { probe: 'after-gap' });
    await dispatch();
    expect(rx.at('/gap')).toHaveLength(0);
    t.clock.advance(119_000);
    await dispatch();
    expect(rx.at('/gap')).toHaveLength(0);
    t.clock.advance(1_000);
    await dispatch();
    expect(rx.at('/gap').map((g) => g.json.data.details.probe)).toEqual(['after-gap']);
    expect(verifyStandardWebhook(ep.secret, rx.at('/gap')[0].headers, rx.at('/gap')[0].body, t.clock.now())).toBe(true);
    await remove(ep.id);
  });

  itWhere(dialect === 'postgres')('waits for an event whose transaction commits after a later id (PostgreSQL)', async () => {
    const ep = await create('/inflight');
    await dispatch();
    const c = new pg.Client({ connectionString: process.env.TEGAMI_TEST_PG_URL, options: `-c search_path=${t.db.schema}` });
    await c.connect();
    try {
      await c.query('begin');
      await c.query(`insert into events (account_id, type, data, created_at) values ($1, 'alert', $2, $3)`, [t.accountId, JSON.stringify({ kind: 'x', n: 1 }), t.clock.now()]);
      await raiseAlert(t.deps, t.accountId, 'domain_drift', { n: 2 });
      await dispatch();
      expect(rx.at('/inflight')).toHaveLength(0);
      await c.query('commit');
    } finally {
      await c.end();
    }
    await dispatch();
    expect(rx.at('/inflight').map((g) => g.json.data.details.n)).toEqual([1, 2]);
    await remove(ep.id);
  });
  it('with no active endpoint, passes events by id without deliveries, still stopping at an id gap; a later endpoint gets only later events', async () => {
    const repo = webhooksRepo(t.db);
    expect(await repo.activeEndpoints()).toHaveLength(0);
    await dispatch();
    const cursor = async () => Number((await t.db.db.selectFrom('webhook_cursors').select('last_id').where('name', '=', 'events').executeTakeFirstOrThrow()).last_id);
    const maxId = async () => Number((await t.db.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow()).m ?? 0);
    const deliveries = async () => (await t.db.db.selectFrom('webhook_deliveries').select('id').execute()).length;
    const before = await deliveries();
    for (let i = 0; i < 3; i++) await raiseAlert(t.deps, t.accountId, 'domain_drift', { probe: `quiet-${i}` });
    expect(await dispatcher.fanout.tick()).toBeGreaterThanOrEqual(3);
    expect(await cursor()).toBe(await maxId());
    expect(await deliveries()).toBe(before);
    // An id gap holds the cursor on this path too, until the grace period.
    const max = await maxId();
    if (dialect === 'postgres') await sql`select nextval('events_id_seq')`.execute(t.db.db);
    else await t.db.db.insertInto('events').values({ id: max + 2, account_id: t.accountId, message_id: null, campaign_id: null, type: 'alert', data: JSON.stringify({ kind: 'x' }), created_at: t.clock.now() }).execute();
    if (dialect === 'postgres') await raiseAlert(t.deps, t.accountId, 'domain_drift', { probe: 'quiet-gap' });
    await dispatch();
    expect(await cursor()).toBe(max);
    t.clock.advance(120_000);
    await dispatch();
    expect(await cursor()).toBe(await maxId());
    const ep = await create('/after-quiet');
    await raiseAlert(t.deps, t.accountId, 'domain_drift', { probe: 'heard' });
    await dispatch();
    expect(rx.at('/after-quiet').map((g) => g.json.data.details.probe)).toEqual(['heard']);
    await remove(ep.id);
  });

  itWhere(dialect === 'postgres')('a dispatcher does not wait for a cursor another one holds (PostgreSQL, SKIP LOCKED)', async () => {
    const ep = await create('/locked');
    await dispatch();
    await raiseAlert(t.deps, t.accountId, 'domain_drift', { probe: 'while-locked' });
    const c = new pg.Client({ connectionString: process.env.TEGAMI_TEST_PG_URL, options: `-c search_path=${t.db.schema}` });
    await c.connect();
    try {
      await c.query('begin');
      await c.query(`select * from webhook_cursors where name = 'events' for update`);
      const t0 = performance.now();
      // Without SKIP LOCKED this tick would block until the other transaction ends (never, here).
      const read = await Promise.race([dispatcher.fanout.tick(), new Promise<string>((r) => setTimeout(() => r('blocked'), 5_000))]);
      expect(read).toBe(0);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(rx.at('/locked')).toHaveLength(0);
      await c.query('commit');
    } finally {
      await c.end();
    }
    await dispatch();
    expect(rx.at('/locked').map((g) => g.json.data.details.probe)).toEqual(['while-locked']);
    await remove(ep.id);
  });

  it('deletes finished deliveries and their attempts after logRetentionDays, keeping pending ones', async () => {
    const ok = await create('/kept');
    const down = await create('/failing');
    rx.setResponder((r) => (r.path === '/failing' ? 500 : 200));
    await raiseAlert(t.deps, t.accountId, 'stream_held', { probe: 'retention' });
    await dispatch();
    expect(await log(ok.id)).toHaveLength(1);
    t.clock.advance(29 * 86_400_000);
    await dispatcher.purge();
    expect(await log(ok.id)).toHaveLength(1);
    t.clock.advance(2 * 86_400_000);
    const n = await dispatcher.purge();
    expect(n).toBeGreaterThan(0);
    expect(await log(ok.id)).toHaveLength(0);
    const attempts = await t.db.db.selectFrom('webhook_attempts').select('id').where('endpoint_id', '=', ok.id).execute();
    expect(attempts).toHaveLength(0);
    // the failing endpoint's delivery is still pending (never purged while due)
    expect((await log(down.id)).map((d) => d.status)).toEqual(['pending']);
  });
});
