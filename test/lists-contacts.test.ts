import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriberIdsQuery } from '../src/store/contacts-repo.js';
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
    expect((await t.api('GET', `/v1/lists/${l.json.id}`)).json.counts.subscribed).toBe(0);
  });

  it('keeps an unsubscribed subscription on upsert and reports it (R-UNSUB-12); validates consent evidence (R-CONSENT-1)', async () => {
    const l = (await t.api('POST', '/v1/lists', { name: 'Upsert keeps' })).json;
    const c = (await t.api('POST', '/v1/contacts', { email: 'keep@example.jp', lists: [{ list_id: l.id }] })).json;
    expect(c.kept_unsubscribed).toEqual([]);
    await t.api('POST', `/v1/contacts/${c.id}/subscriptions`, { list_id: l.id, status: 'unsubscribed' });
    const again = await t.api('POST', '/v1/contacts', { email: 'keep@example.jp', lists: [{ list_id: l.id, consent: { source: 'crm', confirmed_at: 1 } }] });
    expect(again.json.kept_unsubscribed).toEqual([l.id]);
    expect(again.json.subscriptions[0].status).toBe('unsubscribed');
    const badIp = await t.api('POST', `/v1/contacts/${c.id}/subscriptions`, { list_id: l.id, status: 'subscribed', consent: { ip: 'not-an-ip', confirmed_at: 5 } });
    expect(badIp.json.error.code).toBe('E_VALIDATION');
    expect((await t.api('POST', '/v1/contacts', { email: 'k2@example.jp', attributes: { ['k'.repeat(101)]: 1 } })).json.error.code).toBe('E_VALIDATION');
    // Another account's list id: 404, and the contact is not created (one transaction).
    const otherList = (await t.api('POST', '/v1/lists', { name: 'Theirs' }, other)).json;
    const cross = await t.api('POST', '/v1/contacts', { email: 'cross@example.jp', lists: [{ list_id: otherList.id }] });
    expect(cross.status).toBe(404);
    expect((await t.api('GET', '/v1/contacts?q=cross@')).json.items).toEqual([]);
    expect((await t.api('POST', `/v1/contacts/${c.id}/subscriptions`, { list_id: otherList.id, status: 'subscribed' })).status).toBe(404);
  });

  it('pages contacts by keyset (after, limit, next_cursor) and filters by address prefix', async () => {
    for (let i = 0; i < 5; i++) await t.api('POST', '/v1/contacts', { email: `page${i}@paging.example` });
    const seen: string[] = [];
    let url = '/v1/contacts?q=page&limit=2';
    for (let guard = 0; guard < 10; guard++) {
      const r = (await t.api('GET', url)).json;
      seen.push(...r.items.map((x: { address: string }) => x.address));
      if (!r.next_cursor) break;
      url = `/v1/contacts?q=page&limit=2&after=${r.next_cursor}`;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `page${i}@paging.example`));
    expect((await t.api('GET', '/v1/contacts?q=PAGE3')).json.items.map((x: { address: string }) => x.address)).toEqual(['page3@paging.example']);
  });

  it('needs write scope for changes; refuses to delete a list a campaign names (E_STATE)', async () => {
    const reader = { authorization: `Bearer ${(await t.core.accounts.createApiKey(t.accountId, 'r', ['read'])).key}` };
    expect((await t.api('GET', '/v1/lists', undefined, reader)).status).toBe(200);
    expect((await t.api('POST', '/v1/lists', { name: 'Nope' }, reader)).status).toBe(403);
    expect((await t.api('POST', '/v1/contacts', { email: 'r@example.jp' }, reader)).status).toBe(403);
    const l = (await t.api('POST', '/v1/lists', { name: 'Used' })).json;
    const now = t.clock.now();
    await t.db.db.insertInto('campaigns').values({
      id: 'cmp_used', account_id: t.accountId, name: 'c', status: 'sent', category: 'marketing', list_ids: JSON.stringify([l.id]),
      from_address: 'a@example.jp', reply_to: null, subject: 's', html: null, text: 't', template_id: null, headers_json: null, scheduled_at: null,
      lease_owner: null, lease_until: null, plan_cursor: null, planned: 0, created_at: now, updated_at: now, started_at: null, finished_at: null,
    }).execute();
    const del = await t.api('DELETE', `/v1/lists/${l.id}`);
    expect(del.json.error.code).toBe('E_STATE');
    expect((await t.api('GET', `/v1/lists/${l.id}`)).status).toBe(200);
  });

  it('pageSubscribers: distinct subscribed contacts of several lists in id order, first matching list, account-scoped', async () => {
    const a = await t.core.lists.create(t.accountId, { name: 'PS A' });
    const b = await t.core.lists.create(t.accountId, { name: 'PS B' });
    const ids: Record<string, number> = {};
    const add = async (name: string, subs: Array<[string, 'subscribed' | 'unsubscribed' | 'pending']>) => {
      ids[name] = (await t.core.contacts.upsert(t.accountId, { email: `${name}@ps.example`, attributes: { n: name } })).id;
      for (const [list, status] of subs) await t.core.contacts.setSubscription(t.accountId, ids[name], list, status);
    };
    await add('c1', [[a.id, 'subscribed']]);
    await add('c2', [[b.id, 'subscribed']]);
    await add('c3', [[b.id, 'subscribed'], [a.id, 'subscribed']]);
    await add('c4', [[a.id, 'unsubscribed']]);
    await add('c5', [[b.id, 'pending']]);
    await add('c6', [[a.id, 'subscribed'], [b.id, 'unsubscribed']]);
    await add('c7', []);
    const all = [];
    for (let after = 0, guard = 0; guard < 10; guard++) {
      const page = await t.core.contacts.pageSubscribers(t.accountId, [a.id, b.id], after, 2);
      if (!page.length) break;
      expect(page.length).toBeLessThanOrEqual(2);
      all.push(...page);
      after = page[page.length - 1].contact_id;
    }
    expect(all.map((r) => [r.address, r.list_id])).toEqual([['c1@ps.example', a.id], ['c2@ps.example', b.id], ['c3@ps.example', a.id], ['c6@ps.example', a.id]]);
    expect(all[0]).toMatchObject({ contact_id: ids.c1, address_key: 'c1@ps.example', attributes: { n: 'c1' } });
    // "first matching list" follows the caller's order
    expect((await t.core.contacts.pageSubscribers(t.accountId, [b.id, a.id], ids.c2, 1))[0]).toMatchObject({ contact_id: ids.c3, list_id: b.id });
    const otherAcc = (await t.core.accounts.listAccounts()).find((x) => x.id !== t.accountId)!;
    expect(await t.core.contacts.pageSubscribers(otherAcc.id, [a.id, b.id], 0, 100)).toEqual([]);
    expect(await t.core.contacts.pageSubscribers(t.accountId, [], 0, 100)).toEqual([]);
  });

  it.each([{ anyStatus: false }, { anyStatus: true }])('pageSubscribers and the planner (%o) read an ordered index range per list: no table scan, no sort', async (opts) => {
    const q = subscriberIdsQuery(t.db.db, t.accountId, 'lst_x', 0, 100, opts).compile();
    // EXPLAIN takes no bound parameters here: inline the fixed test values.
    const lit = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v)}'`);
    const text = dialect === 'sqlite'
      ? q.sql.replace(/\?/g, ((i) => () => lit(q.parameters[i++]))(0))
      : q.sql.replace(/\$(\d+)/g, (_, n) => lit(q.parameters[Number(n) - 1]));
    const plan = await t.db.db.connection().execute(async (conn) => {
      if (dialect === 'sqlite') return (await sql.raw<{ detail: string }>(`explain query plan ${text}`).execute(conn)).rows.map((r) => r.detail).join('\n');
      // A near-empty table makes a sequential scan cheapest; forbid it to see which index PostgreSQL would use.
      await sql`set enable_seqscan = off`.execute(conn);
      try {
        return (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${text}`).execute(conn)).rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await sql`reset enable_seqscan`.execute(conn);
      }
    });
    expect(plan).toMatch(dialect === 'sqlite' ? /SEARCH subscriptions USING INDEX sqlite_autoindex_subscriptions_1 \(list_id=\? AND contact_id>\?\)/ : /Index Scan using subscriptions_list_contact/);
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/);
  });
});
