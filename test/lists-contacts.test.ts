import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

describe.each(DIALECTS)('lists, contacts and subscriptions API on %s (issue 2 item 7)', (dialect) => {
  let t: TestApp;
  let other: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    const acc = await t.core.accounts.createAccount('Other');
    other = { authorization: `Bearer ${(await t.core.accounts.createApiKey(acc.id, 'o', ['admin'])).key}` };
  });
  afterAll(async () => { await t?.close(); });

  it('creates, renames, lists and deletes lists; names are unique per account', async () => {
    const a = await t.api('POST', '/v1/lists', { name: 'News', description: 'weekly' });
    expect(a.status).toBe(201);
    expect(a.json.label).toBe(a.json.id.replace('_', '-'));
    expect((await t.api('POST', '/v1/lists', { name: 'News' })).json.error.code).toBe('E_CONFLICT');
    expect((await t.api('PATCH', `/v1/lists/${a.json.id}`, { name: 'News 2' })).json.name).toBe('News 2');
    expect((await t.api('GET', '/v1/lists')).json.items.map((l: { name: string }) => l.name)).toContain('News 2');
    expect((await t.api('GET', `/v1/lists/${a.json.id}`, undefined, other)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/lists/${a.json.id}`, undefined, other)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/lists/${a.json.id}`)).status).toBe(204);
    expect((await t.api('GET', `/v1/lists/${a.json.id}`)).status).toBe(404);
  });

  it('upserts contacts with attributes and consent evidence; isolation; delete', async () => {
    const l = await t.api('POST', '/v1/lists', { name: 'Members' });
    const consent = { source: 'signup-form', at: 1795400000000, ip: '198.51.100.7', confirmed_at: 1795400060000 };
    const c = await t.api('POST', '/v1/contacts', { email: 'Yamada@Example.JP', attributes: { name: '山田' }, lists: [{ list_id: l.json.id, consent }] });
    expect(c.status).toBe(201);
    expect(c.json.address).toBe('Yamada@example.jp');
    expect(c.json.subscriptions[0]).toMatchObject({ status: 'subscribed', consent_source: 'signup-form', consent_ip: '198.51.100.7', confirmed_at: 1795400060000 });
    const again = await t.api('POST', '/v1/contacts', { email: 'yamada@example.jp', attributes: { plan: 'gold' } });
    expect(again.json.id).toBe(c.json.id);
    expect(again.json.attributes).toEqual({ name: '山田', plan: 'gold' });
    expect((await t.api('PATCH', `/v1/contacts/${c.json.id}`, { attributes: { a: 1 } })).json.attributes).toEqual({ a: 1 });
    expect((await t.api('POST', '/v1/contacts', { email: 'bad address' })).json.error.code).toBe('E_BAD_ADDRESS');
    expect((await t.api('POST', '/v1/contacts', { email: 'x@example.jp', attributes: { k: 'v'.repeat(70_000) } })).json.error.code).toBe('E_TOO_LARGE');
    expect((await t.api('GET', `/v1/contacts/${c.json.id}`, undefined, other)).status).toBe(404);
    expect((await t.api('GET', '/v1/contacts', undefined, other)).json.items).toEqual([]);
    const un = await t.api('POST', `/v1/contacts/${c.json.id}/subscriptions`, { list_id: l.json.id, status: 'unsubscribed' });
    expect(un.json.subscriptions[0].status).toBe('unsubscribed');
    const re = await t.api('POST', `/v1/contacts/${c.json.id}/subscriptions`, { list_id: l.json.id, status: 'subscribed' });
    expect(re.json.error.code).toBe('E_STATE');
    const confirmed = await t.api('POST', `/v1/contacts/${c.json.id}/subscriptions`, { list_id: l.json.id, status: 'subscribed', consent: { source: 'double-opt-in', confirmed_at: 1795500000000 } });
    expect(confirmed.json.subscriptions[0]).toMatchObject({ status: 'subscribed', confirmed_at: 1795500000000 });
    expect((await t.api('DELETE', `/v1/contacts/${c.json.id}`)).status).toBe(204);
    expect((await t.api('GET', `/v1/contacts/${c.json.id}`)).status).toBe(404);
  });
});
