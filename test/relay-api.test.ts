import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

describe.each(DIALECTS)('relay API: SMTP credentials and filters on %s (issue 7)', (dialect) => {
  let t: TestApp;
  let other: { accountId: string; key: string };
  const as = (key: string) => (method: string, url: string, body?: unknown) => t.http!.inject({ method: method as 'GET', url, payload: body as object, headers: { authorization: `Bearer ${key}` } })
    .then((r) => ({ status: r.statusCode, json: r.json() as any }));
  beforeAll(async () => {
    t = await createTestApp(dialect);
    const acc = await t.core.accounts.createAccount('Other');
    other = { accountId: acc.id, key: (await t.core.accounts.createApiKey(acc.id, 'k', ['admin'])).key };
  });
  afterAll(async () => { await t?.close(); });

  it('credentials: the password is shown once and stored only as a salted hash; listed without secret; revocable; isolated per account', async () => {
    const c = await t.api('POST', '/v1/smtp-credentials', { name: 'CRM', rate_per_minute: 120 });
    expect(c.status).toBe(201);
    expect(c.json).toMatchObject({ name: 'CRM', rate_per_minute: 120, ip_auth: false, allowed_ips: [], revoked_at: null });
    expect(c.json.username).toMatch(/^smtp_[0-9a-z]{26}$/);
    expect(c.json.password.length).toBeGreaterThanOrEqual(32);
    const stored = await t.db.db.selectFrom('smtp_credentials').selectAll().where('id', '=', c.json.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(c.json.password);
    expect(stored.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = await t.api('GET', '/v1/smtp-credentials');
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0]).not.toHaveProperty('password');
    expect(list.json.items[0]).not.toHaveProperty('hash');
    expect(list.json.items[0]).not.toHaveProperty('salt');
    expect(await t.core.relay.authenticate(c.json.username, c.json.password, '127.0.0.1')).toMatchObject({ accountId: t.accountId, credentialId: c.json.id, ratePerMinute: 120 });
    expect(await t.core.relay.authenticate(c.json.username, c.json.password + 'x', '127.0.0.1')).toBeNull();
    // Another account sees nothing and cannot revoke it (404, not 403).
    const o = as(other.key);
    expect((await o('GET', '/v1/smtp-credentials')).json.items).toEqual([]);
    expect((await o('GET', `/v1/smtp-credentials/${c.json.id}`)).status).toBe(404);
    expect((await o('DELETE', `/v1/smtp-credentials/${c.json.id}`)).status).toBe(404);
    expect((await o('PATCH', `/v1/smtp-credentials/${c.json.id}`, { name: 'mine' })).status).toBe(404);
    const p = await t.api('PATCH', `/v1/smtp-credentials/${c.json.id}`, { allowed_ips: ['10.0.0.0/8', '2001:db8::1'], rate_per_minute: null });
    expect(p.json).toMatchObject({ allowed_ips: ['10.0.0.0/8', '2001:db8::1'], rate_per_minute: null });
    expect(await t.core.relay.authenticate(c.json.username, c.json.password, '127.0.0.1')).toBeNull();
    expect(await t.core.relay.authenticate(c.json.username, c.json.password, '::ffff:10.1.2.3')).not.toBeNull();
    expect((await t.api('DELETE', `/v1/smtp-credentials/${c.json.id}`)).status).toBe(204);
    expect((await t.api('DELETE', `/v1/smtp-credentials/${c.json.id}`)).status).toBe(404);
    expect(await t.core.relay.authenticate(c.json.username, c.json.password, '10.1.2.3')).toBeNull();
    expect((await t.api('GET', `/v1/smtp-credentials/${c.json.id}`)).json.revoked_at).toEqual(expect.any(Number));
  });

  it('credentials: bad input gets a stable code and writes nothing', async () => {
    const before = (await t.api('GET', '/v1/smtp-credentials')).json.items.length;
    const bad = await t.api('POST', '/v1/smtp-credentials', { name: 'x', allowed_ips: ['not-an-ip'] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('E_VALIDATION');
    const noIps = await t.api('POST', '/v1/smtp-credentials', { name: 'x', ip_auth: true });
    expect(noIps.status).toBe(400);
    expect(noIps.json.error.message).toMatch(/R-INFRA-7/);
    expect((await t.api('POST', '/v1/smtp-credentials', { name: 'x', allowed_ips: ['10.0.0.0/33'] })).status).toBe(400);
    const wide = await t.api('POST', '/v1/smtp-credentials', { name: 'x', allowed_ips: ['0.0.0.0/0'], ip_auth: true });
    expect(wide.status).toBe(400);
    expect(wide.json.error.message).toMatch(/too wide.*R-INFRA-7/);
    expect((await t.api('GET', '/v1/smtp-credentials')).json.items.length).toBe(before);
    // A read-scope key may not manage credentials.
    const ro = (await t.core.accounts.createApiKey(t.accountId, 'ro', ['read'])).key;
    expect((await as(ro)('GET', '/v1/smtp-credentials')).status).toBe(403);
  });

  it('filters: ordered CRUD, inserts at a position, moves, renumbers on delete; validation; isolation', async () => {
    const a = await seedList(t.db.db, t.accountId, 'A', []);
    const b = await seedList(t.db.db, t.accountId, 'B', []);
    const f1 = (await t.api('POST', '/v1/relay-filters', { header: 'X-Tegami-List', match: 'exact', value: 'a', list_id: a.id })).json;
    const f2 = (await t.api('POST', '/v1/relay-filters', { header: 'X-Tegami-List', match: 'exact', value: 'b', list_id: b.id })).json;
    const f0 = await t.api('POST', '/v1/relay-filters', { name: 'first', header: 'X-Campaign', match: 'regex', value: '^news-', list_id: a.id, position: 1 });
    expect(f0.status).toBe(201);
    expect(f0.json).toMatchObject({ position: 1, header: 'x-campaign', match: 'regex', name: 'first' });
    const order = async () => (await t.api('GET', '/v1/relay-filters')).json.items.map((f: { id: string; position: number }) => [f.id, f.position]);
    expect(await order()).toEqual([[f0.json.id, 1], [f1.id, 2], [f2.id, 3]]);
    expect((await t.api('PATCH', `/v1/relay-filters/${f2.id}`, { position: 1, value: 'bee' })).json).toMatchObject({ position: 1, value: 'bee' });
    expect(await order()).toEqual([[f2.id, 1], [f0.json.id, 2], [f1.id, 3]]);
    expect((await t.api('DELETE', `/v1/relay-filters/${f0.json.id}`)).status).toBe(204);
    expect(await order()).toEqual([[f2.id, 1], [f1.id, 2]]);
    const badRe = await t.api('POST', '/v1/relay-filters', { header: 'X-A', match: 'regex', value: '(unclosed', list_id: a.id });
    expect(badRe.status).toBe(400);
    expect(badRe.json.error.code).toBe('E_RELAY_FILTER');
    const owned = await t.api('POST', '/v1/relay-filters', { header: 'List-Unsubscribe', match: 'exact', value: 'x', list_id: a.id });
    expect(owned.json.error.code).toBe('E_RELAY_FILTER');
    expect((await t.api('POST', '/v1/relay-filters', { header: 'Bad Name', match: 'exact', value: 'x', list_id: a.id })).status).toBe(400);
    const o = as(other.key);
    // Another account can neither see these filters nor point its own filter at this account's list.
    expect((await o('GET', `/v1/relay-filters/${f1.id}`)).status).toBe(404);
    expect((await o('PATCH', `/v1/relay-filters/${f1.id}`, { value: 'z' })).status).toBe(404);
    expect((await o('DELETE', `/v1/relay-filters/${f1.id}`)).status).toBe(404);
    expect((await o('POST', '/v1/relay-filters', { header: 'X-A', match: 'exact', value: 'x', list_id: a.id })).status).toBe(404);
    expect((await o('GET', '/v1/relay-filters')).json.items).toEqual([]);
    expect(await order()).toEqual([[f2.id, 1], [f1.id, 2]]);
  });

  it('a list a relay filter names cannot be deleted until the filter is gone', async () => {
    const l = await seedList(t.db.db, t.accountId, 'Relayed', []);
    const f = (await t.api('POST', '/v1/relay-filters', { header: 'X-Tegami-List', match: 'exact', value: 'relayed', list_id: l.id })).json;
    const refused = await t.api('DELETE', `/v1/lists/${l.id}`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('E_STATE');
    expect((await t.api('DELETE', `/v1/relay-filters/${f.id}`)).status).toBe(204);
    expect((await t.api('DELETE', `/v1/lists/${l.id}`)).status).toBe(204);
  });
});
