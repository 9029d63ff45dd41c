import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { raiseAlert } from '../src/core/alerts.js';
import type { Dispatcher } from '../src/webhooks/dispatcher.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { startReceiver, verifyStandardWebhook } from './webhooks-receiver.js';

const H = 3_600_000;

/** Only these names resolve; everything else is NXDOMAIN (no real DNS in tests). */
async function resolver(name: string, rr: string): Promise<string[]> {
  if (name === 'hooks.internal.test' && rr === 'A') return ['10.0.0.5'];
  if (name === 'metadata.rebind.test' && rr === 'A') return ['169.254.169.254'];
  const e = new Error(`no ${rr} for ${name}`) as Error & { code: string };
  e.code = 'ENOTFOUND';
  throw e;
}

describe.each(DIALECTS)('signed event webhooks on %s (issue 10, Standard Webhooks)', (dialect) => {
  let t: TestApp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let dispatcher: Dispatcher;
  const dispatch = () => dispatcher.drain();
  const verify = (secret: string, r: { headers: any; body: string }) => verifyStandardWebhook(secret, r.headers, r.body, t.clock.now());
  const create = async (path: string, body: Record<string, unknown> = {}) => {
    const r = await t.api('POST', '/v1/webhooks', { url: rx.url(path), ...body });
    expect(r.status, r.body).toBe(201);
    return r.json as { id: string; secret: string };
  };
  const deliveries = async (id: string) => (await t.api('GET', `/v1/webhooks/${id}/deliveries?limit=500`)).json.items as any[];

  beforeAll(async () => {
    rx = await startReceiver();
    t = await createTestApp(dialect, { roles: ['api', 'worker'], configure: (c) => { c.webhooks.allowLocalHttp = true; }, create: { resolver } });
    dispatcher = t.services.webhooks!.info!.dispatcher as Dispatcher;
    expect((await t.api('POST', '/v1/domains', { name: 'example.com' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });
  beforeEach(() => rx.setResponder(() => 200));

  // Loopback itself is allowed here (webhooks.allowLocalHttp, for the receiver); webhooks-url-guard.test.ts covers it refused.
  it('refuses plain http, private and link-local targets, unknown event types and malformed secrets', async () => {
    const bad: Array<[string, Record<string, unknown>, string]> = [
      ['http://hooks.example.net/x', {}, 'E_WEBHOOK_URL'],
      ['https://10.1.2.3/x', {}, 'E_WEBHOOK_URL'],
      ['https://169.254.169.254/latest/meta-data', {}, 'E_WEBHOOK_URL'],
      ['https://[fe80::1]/x', {}, 'E_WEBHOOK_URL'],
      ['https://user:pw@hooks.example.net/x', {}, 'E_WEBHOOK_URL'],
      ['not a url', {}, 'E_WEBHOOK_URL'],
      ['https://hooks.example.net/x', { event_types: ['sent', 'opened'] }, 'E_VALIDATION'],
      ['https://hooks.example.net/x', { secret: 'whsec_short' }, 'E_WEBHOOK_SECRET'],
    ];
    for (const [url, extra, code] of bad) {
      const r = await t.api('POST', '/v1/webhooks', { url, ...extra });
      expect([r.status, r.json.error.code], url).toEqual([400, code]);
    }
    expect((await t.api('GET', '/v1/webhooks')).json.items).toHaveLength(0);
  });

  it('documents every webhook route in the OpenAPI document, and needs the admin scope to manage endpoints', async () => {
    const doc = (await t.api('GET', '/v1/openapi.json')).json;
    for (const p of ['/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/rotate-secret', '/v1/webhooks/{id}/deliveries',
      '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', '/v1/webhooks/{id}/test']) expect(doc.paths[p], p).toBeDefined();
    const reader = await t.core.accounts.createApiKey(t.accountId, 'reader', ['write']);
    const r = await t.http!.inject({ method: 'POST', url: '/v1/webhooks', payload: { url: rx.url('/x') }, headers: { authorization: `Bearer ${reader.key}` } });
    expect([r.statusCode, r.json().error.code]).toEqual([403, 'E_FORBIDDEN']);
    const list = await t.http!.inject({ method: 'GET', url: '/v1/webhooks', headers: { authorization: `Bearer ${reader.key}` } });
    expect(list.statusCode).toBe(200);
  });

  it('shows the secret once and keeps it encrypted at rest', async () => {
    const ep = await create('/once', { event_types: ['alert'] });
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const got = await t.api('GET', `/v1/webhooks/${ep.id}`);
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.json)).not.toContain(ep.secret.slice(6));
    expect(JSON.stringify((await t.api('GET', '/v1/webhooks')).json)).not.toContain(ep.secret.slice(6));
    const row = await t.db.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', ep.id).executeTakeFirstOrThrow();
    expect(row.secret_enc).toMatch(/^v1\./);
    expect(row.secret_enc).not.toContain(ep.secret.slice(6, 20));
    expect((await t.api('DELETE', `/v1/webhooks/${ep.id}`)).status).toBe(204);
  });

  it('delivers a sent event of a real send, signed so an independent verifier accepts it', async () => {
    const ep = await create('/sent', { event_types: ['sent', 'bounced'] });
    const m = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['tanaka@example.net'], subject: 'Hi', text: 'Hello', category: 'transactional' });
    expect(m.status, m.body).toBe(202);
    await t.sending!.drain();
    await dispatch();
    const got = rx.at('/sent');
    expect(got).toHaveLength(1);
    const [r] = got;
    expect(verify(ep.secret, r)).toBe(true);
    expect(verify(ep.secret, { headers: r.headers, body: r.body.replace('tanaka', 'tanakb') })).toBe(false);
    expect(verify('whsec_' + Buffer.alloc(32, 1).toString('base64'), r)).toBe(false);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.id).toMatch(/^msg_/);
    expect(r.json).toMatchObject({ type: 'sent', data: { message: { rcpt: 'tanaka@example.net', message_id: m.json.messages[0].message_id, category: 'transactional' }, next_hop: 'capture' } });
    expect(r.json.data.details.worker).toBeUndefined();
    expect(new Date(r.json.timestamp).getTime()).toBeGreaterThan(0);
    // the log says so too
    const [d] = await deliveries(ep.id);
    expect(d).toMatchObject({ webhook_id: r.id, status: 'succeeded', attempts: 1, event_type: 'sent', last_status_code: 200 });
    expect(d.attempt_log).toHaveLength(1);
    await dispatch();
    expect(rx.at('/sent')).toHaveLength(1);
  });

  it('retries after 500s with back-off and the same webhook-id; no other duplicates', async () => {
    const ep = await create('/retry', { event_types: ['alert'] });
    let n = 0;
    rx.setResponder((r) => (r.path === '/retry' && ++n <= 2 ? 500 : 200));
    await raiseAlert(t.deps, t.accountId, 'stream_held', { domain: 'example.com' });
    await raiseAlert(t.deps, t.accountId, 'domain_drift', { domain: 'example.com' });
    await dispatch();
    // both alerts tried once, both failed (the 500s); nothing due yet 4 s later
    expect(rx.at('/retry')).toHaveLength(2);
    t.clock.advance(4_000);
    await dispatch();
    expect(rx.at('/retry')).toHaveLength(2);
    t.clock.advance(1_000);
    await dispatch();
    const got = rx.at('/retry');
    expect(got).toHaveLength(4);
    expect(got.map((g) => g.status)).toEqual([500, 500, 200, 200]);
    for (const g of got) expect(verify(ep.secret, g)).toBe(true);
    const ids = got.map((g) => g.id);
    expect(new Set(ids).size).toBe(2);
    expect(ids.slice(2).sort()).toEqual(ids.slice(0, 2).sort());
    expect(got.filter((g) => g.json.data.kind === 'stream_held')).toHaveLength(2);
    const log = await deliveries(ep.id);
    expect(log.map((d) => [d.status, d.attempts, d.attempt_log.map((a: any) => a.status_code)])).toEqual([
      ['succeeded', 2, [500, 200]], ['succeeded', 2, [500, 200]],
    ]);
    t.clock.advance(H);
    await dispatch();
    expect(rx.at('/retry')).toHaveLength(4);
  });

  it('redelivers on request with the same webhook-id, and refuses another account', async () => {
    const ep = await create('/redeliver', { event_types: ['alert'] });
    await raiseAlert(t.deps, t.accountId, 'bulk_sender_near', { count: 4500 });
    await dispatch();
    const [d] = await deliveries(ep.id);
    const r = await t.api('POST', `/v1/webhooks/${ep.id}/deliveries/${d.id}/redeliver`);
    expect(r.status, r.body).toBe(202);
    expect(r.json.status).toBe('pending');
    await dispatch();
    const got = rx.at('/redeliver');
    expect(got.map((g) => g.id)).toEqual([d.webhook_id, d.webhook_id]);
    expect(got[1].body).toBe(got[0].body);
    expect((await deliveries(ep.id))[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await t.api('POST', `/v1/webhooks/${ep.id}/deliveries/999999/redeliver`)).status).toBe(404);
  });

  it('delivers unsubscribes, resubscribes and test pings; keeps accounts apart', async () => {
    const ep = await create('/mine', { event_types: ['unsubscribed', 'resubscribed', 'alert'] });
    const other = await t.core.accounts.createAccount('Other');
    const otherKey = await t.core.accounts.createApiKey(other.id, 'k', ['admin']);
    const as = (method: string, url: string, body?: unknown) => t.http!.inject({ method: method as 'GET', url, payload: body as object, headers: { authorization: `Bearer ${otherKey.key}` } });
    const otherEp = JSON.parse((await as('POST', '/v1/webhooks', { url: rx.url('/theirs'), event_types: ['*'] })).body);
    await t.core.suppressions.add(t.accountId, [{ address: 'Reader@Example.org', scope: 'account', reason: 'unsubscribe' }], { source: 'test' });
    await t.core.suppressions.add(t.accountId, [{ address: 'bounce@example.org', scope: 'account', reason: 'hard_bounce' }], { source: 'test' });
    await t.core.suppressions.remove(t.accountId, 'reader@example.org', 'account', null, { source: 'test', note: 'asked again' });
    await raiseAlert(t.deps, other.id, 'spam_rate_warning', { rate: 0.002 });
    await dispatch();
    expect(rx.at('/mine').map((g) => [g.json.type, g.json.data.address])).toEqual([['unsubscribed', 'reader@example.org'], ['resubscribed', 'reader@example.org']]);
    for (const g of rx.at('/mine')) expect(verify(ep.secret, g)).toBe(true);
    expect(rx.at('/theirs').map((g) => [g.json.type, g.json.data.kind])).toEqual([['alert', 'spam_rate_warning']]);
    expect(verify(otherEp.secret, rx.at('/theirs')[0])).toBe(true);
    expect(verify(ep.secret, rx.at('/theirs')[0])).toBe(false);
    // another account's endpoint is 404 everywhere
    for (const [m, u] of [['GET', `/v1/webhooks/${ep.id}`], ['GET', `/v1/webhooks/${ep.id}/deliveries`], ['PATCH', `/v1/webhooks/${ep.id}`],
      ['DELETE', `/v1/webhooks/${ep.id}`], ['POST', `/v1/webhooks/${ep.id}/rotate-secret`], ['POST', `/v1/webhooks/${ep.id}/test`]]) {
      const r = await as(m, u, m === 'PATCH' ? { description: 'x' } : m === 'POST' ? {} : undefined);
      expect(r.statusCode, `${m} ${u}`).toBe(404);
    }
    const d = (await deliveries(ep.id))[0];
    expect((await as('POST', `/v1/webhooks/${ep.id}/deliveries/${d.id}/redeliver`)).statusCode).toBe(404);
    expect(JSON.parse((await as('GET', '/v1/webhooks')).body).items.map((e: any) => e.id)).toEqual([otherEp.id]);
    // a test ping goes out at once, whatever the filter
    const ping = await t.api('POST', `/v1/webhooks/${ep.id}/test`);
    expect(ping.status, ping.body).toBe(200);
    expect(ping.json).toMatchObject({ status_code: 200, delivery: { event_type: 'test', status: 'succeeded' } });
    const last = rx.at('/mine').at(-1)!;
    expect(last.json.type).toBe('test');
    expect(verify(ep.secret, last)).toBe(true);
  });

  it('signs with the old and the new secret during a rotation, then with the new one only', async () => {
    const ep = await create('/rotate', { event_types: ['alert'] });
    const rot = await t.api('POST', `/v1/webhooks/${ep.id}/rotate-secret`, {});
    expect(rot.status, rot.body).toBe(200);
    const fresh = rot.json.secret as string;
    expect(fresh).not.toBe(ep.secret);
    expect(rot.json.previous_secret_expires_at).toBe(t.clock.now() + 24 * H);
    await raiseAlert(t.deps, t.accountId, 'abuse_report', { n: 1 });
    await dispatch();
    const [during] = rx.at('/rotate');
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(fresh, during)).toBe(true);
    expect(verify(ep.secret, during)).toBe(true);
    t.clock.advance(24 * H + 1);
    await dispatch();
    await raiseAlert(t.deps, t.accountId, 'abuse_report', { n: 2 });
    await dispatch();
    const after = rx.at('/rotate').find((g) => g.json.data.details.n === 2)!;
    expect(after.json.data.details.n).toBe(2);
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verify(fresh, after)).toBe(true);
    expect(verify(ep.secret, after)).toBe(false);
  });

  it('refuses a name that resolves to a private or link-local address at delivery time (SSRF)', async () => {
    const eps: string[] = [];
    for (const host of ['hooks.internal.test', 'metadata.rebind.test']) {
      const r = await t.api('POST', '/v1/webhooks', { url: `https://${host}/x`, event_types: ['alert'] });
      expect(r.status, r.body).toBe(201);
      eps.push(r.json.id);
    }
    await raiseAlert(t.deps, t.accountId, 'domain_drift', { probe: true });
    await dispatch();
    for (const id of eps) {
      const [d] = await deliveries(id);
      expect(d.status).toBe('pending');
      expect(d.attempt_log[0]).toMatchObject({ status_code: null });
      expect(d.attempt_log[0].error).toMatch(/^E_WEBHOOK_TARGET: .*(10\.0\.0\.5|169\.254\.169\.254)/);
      expect((await t.api('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    }
  });

  it('retries for 24 hours, then fails the delivery, disables the endpoint and raises an alert', async () => {
    const ep = await create('/down', { event_types: ['alert'] });
    const watcher = await create('/watcher', { event_types: ['alert'] });
    rx.setResponder((r) => (r.path === '/down' ? 500 : 200));
    const t0 = t.clock.now();
    await raiseAlert(t.deps, t.accountId, 'stream_held', { probe: 'down' });
    await dispatch();
    for (let i = 0; i < 20; i++) {
      const [d] = (await deliveries(ep.id)).filter((x) => x.payload.data.details.probe === 'down');
      if (d.status !== 'pending') break;
      t.clock.set(d.next_attempt_at);
      await dispatch();
    }
    const got = rx.at('/down').filter((g) => g.json.data.details.probe === 'down');
    const [d] = (await deliveries(ep.id)).filter((x) => x.payload.data.details.probe === 'down');
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(8);
    expect(got).toHaveLength(8);
    expect(new Set(got.map((g) => g.id)).size).toBe(1);
    const times = d.attempt_log.map((a: any) => a.at - t0);
    expect(times).toEqual([0, 5_000, 305_000, 2_105_000, 9_305_000, 27_305_000, 63_305_000, 24 * H]);
    const shown = (await t.api('GET', `/v1/webhooks/${ep.id}`)).json;
    expect(shown).toMatchObject({ status: 'disabled', failing_since: t0 });
    expect(shown.disabled_reason).toMatch(/HTTP 500/);
    const alerts = await t.db.db.selectFrom('events').select(['data']).where('account_id', '=', t.accountId).where('type', '=', 'alert').execute();
    const disabled = alerts.map((a) => JSON.parse(a.data!)).filter((a) => a.kind === 'webhook_disabled');
    expect(disabled).toEqual([expect.objectContaining({ endpoint_id: ep.id, failing_since: t0 })]);
    // the alert itself is delivered to the endpoints still working
    await dispatch();
    expect(rx.at('/watcher').some((g) => g.json.data.kind === 'webhook_disabled' && g.json.data.details.endpoint_id === ep.id)).toBe(true);
    expect(verify(watcher.secret, rx.at('/watcher').at(-1)!)).toBe(true);
    // a disabled endpoint gets nothing new and cannot be redelivered to until enabled again
    const n = rx.at('/down').length;
    await raiseAlert(t.deps, t.accountId, 'stream_held', { probe: 'while-disabled' });
    await dispatch();
    expect(rx.at('/down')).toHaveLength(n);
    expect((await t.api('POST', `/v1/webhooks/${ep.id}/deliveries/${d.id}/redeliver`)).json.error.code).toBe('E_STATE');
    rx.setResponder(() => 200);
    const on = await t.api('PATCH', `/v1/webhooks/${ep.id}`, { status: 'active' });
    expect(on.json).toMatchObject({ status: 'active', failing_since: null, disabled_reason: null });
    expect((await t.api('POST', `/v1/webhooks/${ep.id}/deliveries/${d.id}/redeliver`)).status).toBe(202);
    await dispatch();
    expect(rx.at('/down').at(-1)).toMatchObject({ id: got[0].id, status: 200 });
  });

  it('two dispatchers working at once send every delivery once', async () => {
    const ep = await create('/pair', { event_types: ['alert'] });
    const { createDispatcher } = await import('../src/webhooks/dispatcher.js');
    const other = createDispatcher(t.deps);
    for (let i = 0; i < 30; i++) await raiseAlert(t.deps, t.accountId, 'domain_drift', { i });
    await Promise.all([dispatcher.drain(), other.drain(), dispatcher.drain()]);
    const got = rx.at('/pair');
    expect(got).toHaveLength(30);
    expect(new Set(got.map((g) => g.id)).size).toBe(30);
    expect(new Set(got.map((g) => g.json.data.details.i)).size).toBe(30);
    for (const g of got) expect(verify(ep.secret, g)).toBe(true);
  });
});
