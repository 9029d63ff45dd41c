import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

describe.each(DIALECTS)('one-click unsubscribe /u/TOKEN on %s (issue 4, RFC 8058)', (dialect) => {
  let t: TestApp;
  let listId: string;
  let contactId: number;
  const tok = (p: Partial<{ accountId: string; listId: string; subject: 'c' | 'm'; subjectId: number }> = {}) =>
    createUnsubscribeToken(tokenKeys(t.deps.masterKey), { accountId: t.accountId, listId, subject: 'c', subjectId: contactId, issuedAt: 1, ...p });
  const raw = (method: string, url: string, payload?: string, headers: Record<string, string> = {}) =>
    t.http!.inject({ method: method as 'POST', url, payload, headers });
  const entries = async (address = 'reader@example.org') => (await t.core.suppressions.get(t.accountId, address));

  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'] });
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const l = await seedList(t.db.db, t.accountId, 'Weekly', ['reader@example.org', 'other@example.org', 'camp1@example.org', 'camp2@example.org']);
    listId = l.id;
    contactId = Number((await t.db.db.selectFrom('contacts').select('id').where('address', '=', 'reader@example.org').executeTakeFirstOrThrow()).id);
  });
  afterAll(async () => { await t?.close(); });

  it('GET and HEAD show a page and never change state (R-UNSUB-7)', async () => {
    for (const m of ['GET', 'HEAD']) {
      const r = await raw(m, `/u/${tok()}`);
      expect(r.statusCode).toBe(200);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    const page = await raw('GET', `/u/${tok()}`, undefined, { 'accept-language': 'ja,en;q=0.8' });
    expect(page.body).toContain('配信を停止する');
    expect(page.body).toContain(`<form method="post" action="/u/${tok()}">`);
    expect((await entries()).entries).toHaveLength(0);
  });

  it('POST with the urlencoded body suppresses before answering 200, without redirect or cookie (R-UNSUB-4/5/6)', async () => {
    const r = await raw('POST', `/u/${tok()}`, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'GoogleOneClick/1.0' });
    expect(r.statusCode).toBe(200);
    expect(r.headers.location).toBeUndefined();
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.headers['access-control-allow-origin']).toBe('*');
    const e = await entries();
    expect(e.entries).toMatchObject([{ scope: 'list', list_id: listId, reason: 'unsubscribe', source: 'one-click', user_agent: 'GoogleOneClick/1.0' }]);
    // replays are idempotent
    expect((await raw('POST', `/u/${tok()}`, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' })).statusCode).toBe(200);
    const after = await entries();
    expect(after.entries).toHaveLength(1);
    expect(after.history.filter((h) => h.action === 'add')).toHaveLength(1);
    const sub = await t.db.db.selectFrom('subscriptions').select('status').where('contact_id', '=', contactId).executeTakeFirstOrThrow();
    expect(sub.status).toBe('unsubscribed');
  });

  it('a one-click commit never joins another caller\'s open transaction: that transaction\'s rollback keeps the suppression', async () => {
    const now = Date.now();
    const [c] = await t.db.db.insertInto('contacts').values({ account_id: t.accountId, address: 'tx-probe@example.org', address_key: 'tx-probe@example.org', attributes: '{}', created_at: now, updated_at: now }).returning('id').execute();
    let open!: () => void;
    let opened!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const isOpen = new Promise<void>((r) => { opened = r; });
    const rolledBack = t.db.db.transaction().execute(async (trx) => {
      await trx.updateTable('lists').set({ name: 'renamed in a transaction that rolls back' }).where('id', '=', listId).execute();
      opened();
      await gate;
      throw new Error('roll back');
    });
    await isOpen;
    const post = raw('POST', `/u/${tok({ subjectId: Number(c.id) })}`, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' });
    if (dialect === 'sqlite') {
      // One connection: the POST waits for the open transaction to end rather than joining it.
      expect(await Promise.race([post.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 150))])).toBe('waiting');
    }
    open();
    await expect(rolledBack).rejects.toThrow('roll back');
    expect((await post).statusCode).toBe(200);
    expect((await entries('tx-probe@example.org')).entries).toMatchObject([{ scope: 'list', list_id: listId, reason: 'unsubscribe' }]);
    expect((await t.db.db.selectFrom('lists').select('name').where('id', '=', listId).executeTakeFirstOrThrow()).name).toBe('Weekly');
  });

  it('accepts multipart, an empty body, an odd content type and a trailing slash', async () => {
    const variants: Array<[string, string | undefined, Record<string, string>]> = [
      ['other@example.org', '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n', { 'content-type': 'multipart/form-data; boundary=b' }],
    ];
    const otherId = Number((await t.db.db.selectFrom('contacts').select('id').where('address', '=', 'other@example.org').executeTakeFirstOrThrow()).id);
    for (const [addr, body, headers] of variants) {
      const r = await raw('POST', `/u/${tok({ subjectId: otherId })}`, body, headers);
      expect(r.statusCode).toBe(200);
      expect((await entries(addr)).entries).toHaveLength(1);
    }
    for (const [body, headers, slash] of [[undefined, {}, ''], ['x', { 'content-type': 'text/plain' }, '/'], ['{}', { 'content-type': 'application/json' }, '/'],
      // Malformed types (no subtype, garbage) unsubscribe too: any content type (R-UNSUB-4).
      ['x', { 'content-type': 'foo' }, ''], ['x', { 'content-type': 'text/' }, '/'], ['x', { 'content-type': ';;;' }, ''], ['x', { 'content-type': '/' }, '']] as const) {
      const r = await raw('POST', `/u/${tok({ subjectId: otherId, listId: '' })}${slash}`, body, headers as Record<string, string>);
      expect(r.statusCode).toBe(200);
      expect(r.headers.location).toBeUndefined();
    }
    expect((await entries('other@example.org')).entries.map((e) => e.scope).sort()).toEqual(['account', 'list']);
  });

  it('never reads the body of a one-click POST: one larger than the pages\' form limit still unsubscribes', async () => {
    const now = Date.now();
    const id = Number((await t.db.db.insertInto('contacts').values({ account_id: t.accountId, address: 'big-body@example.org', address_key: 'big-body@example.org', attributes: '{}', created_at: now, updated_at: now })
      .returning('id').executeTakeFirstOrThrow()).id);
    const r = await raw('POST', `/u/${tok({ subjectId: id })}`, 'x'.repeat(200 * 1024), { 'content-type': 'application/octet-stream' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('Unsubscribed\n');
    expect((await entries('big-body@example.org')).entries).toMatchObject([{ scope: 'list', list_id: listId, reason: 'unsubscribe', source: 'one-click' }]);
  });

  it('answers 404 for tampered, truncated and other-account tokens, with the same body', async () => {
    const good = tok();
    const other = await t.core.accounts.createAccount('Other');
    const bad = [good.slice(0, -3), good.slice(0, 20), good.replace(/\.[^.]+$/, '.AAAAAAAAAAAAAAAAAAAAAA'), tok({ accountId: other.id }), tok({ subjectId: 999999 }), 'garbage'];
    const bodies = new Set<string>();
    for (const b of bad) {
      const p = await raw('POST', `/u/${encodeURIComponent(b)}`, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(p.statusCode, b).toBe(404);
      bodies.add(p.body);
      expect((await raw('GET', `/u/${encodeURIComponent(b)}`)).statusCode).toBe(404);
    }
    expect(bodies.size).toBe(1);
  });

  it('resubscribe removes the entry and records who did it; preferences list and save', async () => {
    const r = await raw('POST', `/u/${tok()}/resubscribe`);
    expect(r.statusCode).toBe(200);
    const e = await entries();
    expect(e.entries).toHaveLength(0);
    expect(e.history.at(-1)).toMatchObject({ action: 'remove', source: 'recipient-resubscribe' });
    const prefs = await raw('GET', `/u/${tok()}/preferences`);
    expect(prefs.body).toContain(`value="${listId}" checked`);
    const saved = await raw('POST', `/u/${tok()}/preferences`, 'all=stop', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(saved.statusCode).toBe(200);
    expect((await entries()).entries.map((x) => [x.scope, x.source])).toEqual([['account', 'preference-page'], ['list', 'preference-page']]);
  });

  it('skips queued mail at once, and a running campaign sends nothing to the recipient after the POST returned (R-UNSUB-9)', async () => {
    const ids = Object.fromEntries((await t.db.db.selectFrom('contacts').select(['id', 'address']).where('address', 'like', 'camp%').execute()).map((r) => [r.address, Number(r.id)]));
    const c = await t.core.campaigns.create(t.accountId, { name: 'Running', list_ids: [listId], from: 'news@example.com', subject: 'S', text: 'T' });
    await t.core.campaigns.schedule(t.accountId, c.id);
    await t.sending!.planner.tick();
    const queued = await t.db.db.selectFrom('messages').select(['id', 'rcpt', 'status']).where('campaign_id', '=', c.id).execute();
    expect(queued.find((m) => m.rcpt === 'camp1@example.org')?.status).toBe('queued');
    const r = await raw('POST', `/u/${tok({ subjectId: ids['camp1@example.org'] })}`, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.statusCode).toBe(200);
    const m = await t.db.db.selectFrom('messages').select(['id', 'status', 'reason']).where('campaign_id', '=', c.id).where('rcpt', '=', 'camp1@example.org').executeTakeFirstOrThrow();
    expect(m).toMatchObject({ status: 'skipped', reason: 'suppressed:unsubscribe' });
    await t.sending!.drain();
    const captured = await t.db.db.selectFrom('captured').select('rcpt_to').execute();
    expect(captured.map((x) => x.rcpt_to)).toContain('camp2@example.org');
    expect(captured.map((x) => x.rcpt_to)).not.toContain('camp1@example.org');
    const ev = await t.db.db.selectFrom('events').select(['type', 'data']).where('message_id', '=', m.id).execute();
    expect(ev.at(-1)).toMatchObject({ type: 'skipped' });
  });

  it('the List-Unsubscribe URL and the body link of a sent message unsubscribe exactly that recipient and list', async () => {
    const r = await t.api('POST', '/v1/messages', { from: 'news@example.com', to: ['api-reader@example.net'], subject: 'S', html: '<p>Hi</p>', category: 'subscription', list_id: listId });
    expect(r.status).toBe(202);
    await t.sending!.drain();
    const cap = await t.db.db.selectFrom('captured').select('raw').where('rcpt_to', '=', 'api-reader@example.net').executeTakeFirstOrThrow();
    const head = Buffer.from(cap.raw).toString('utf8').split('\r\n\r\n')[0].replace(/\r\n[ \t]/g, ' ');
    const url = /^List-Unsubscribe: <https:\/\/mail\.tegami\.test(\/u\/[^>]+)>/m.exec(head)![1];
    expect((await raw('GET', url)).statusCode).toBe(200);
    expect((await entries('api-reader@example.net')).entries).toHaveLength(0);
    expect((await raw('POST', url, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' })).statusCode).toBe(200);
    expect((await entries('api-reader@example.net')).entries).toMatchObject([{ scope: 'list', list_id: listId, reason: 'unsubscribe' }]);
  });

  it('reports unsubscribes per list per day and the delay to the first skipped send (issue 4 item 7)', async () => {
    const s = await t.api('GET', '/v1/suppressions/stats?days=7');
    const today = new Date(t.clock.now()).toISOString().slice(0, 10);
    expect(s.json.per_day[today][listId]).toBeGreaterThanOrEqual(3);
    expect(s.json.skipped_after_unsubscribe.count).toBeGreaterThanOrEqual(1);
    expect(s.json.skipped_after_unsubscribe.max_ms).toBe(0);
    expect((await t.api('GET', '/metrics', undefined, { authorization: '' })).body).toMatch(/tegami_unsubscribes_total\{via="one-click"\} [1-9]/);
  });
});
