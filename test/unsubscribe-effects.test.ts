import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupCommit } from '../src/core/group-commit.js';
import { createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('group commit (one-click batches)', () => {
  it('answers each caller after its batch, and one bad item does not fail its neighbours', async () => {
    const batches: string[][] = [];
    const g = groupCommit<string, string>(async (items) => {
      batches.push(items);
      if (items.includes('bad')) throw new Error('bad item');
      return items.map((i) => i.toUpperCase());
    });
    const out = await Promise.allSettled(['a', 'b', 'bad', 'c'].map((x) => g.submit(x)));
    expect(out.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected'))).toEqual(['A', 'B', 'rejected', 'C']);
    expect(batches[0]).toEqual(['a', 'b', 'bad', 'c']);
  });

  it('items submitted while a batch is being written go together into the next one, and wait for it', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const g = groupCommit<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items.map((i) => i * 10);
    });
    const first = [1, 2].map((x) => g.submit(x));
    await new Promise((r) => setImmediate(r)); // the first batch is being written now
    let secondDone = false;
    const second = [3, 4, 5].map((x) => g.submit(x).then((v) => { secondDone = true; return v; }));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1, 2]]);
    expect(secondDone).toBe(false);
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2], [3, 4, 5]]);
  });
});

describe.each(DIALECTS)('what a one-click POST does to pending mail on %s (issue 4 item 6, R-UNSUB-9)', (dialect) => {
  let t: TestApp;
  let l1: string;
  let l2: string;
  let contactId: number;
  let otherAccount: string;
  const keys = () => tokenKeys(t.deps.masterKey);
  const post = (token: string) => t.http!.inject({ method: 'POST', url: `/u/${token}`, payload: 'List-Unsubscribe=One-Click', headers: FORM });

  /** A message row written straight into the store (the send path is not under test here). */
  async function message(accountId: string, o: { category: string; listId: string | null; status: string; rcpt?: string }) {
    const now = Date.now();
    const r = await t.db.db.insertInto('messages').values({
      account_id: accountId, campaign_id: null, content_id: null, list_id: o.listId, contact_id: null, category: o.category, domain_id: null,
      from_address: 'news@example.com', rcpt: o.rcpt ?? 'A.B+x@Gmail.com', rcpt_key: 'ab@gmail.com', data: null,
      message_id: `<${Math.random().toString(36).slice(2)}@example.com>`, status: o.status, reason: null, attempts: 0, next_attempt_at: now,
      lease_owner: null, lease_until: null, last_reply: null, created_at: now, updated_at: now, sent_at: null,
    }).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  }
  const statusOf = async (id: number) => t.db.db.selectFrom('messages').select(['status', 'reason']).where('id', '=', id).executeTakeFirstOrThrow();
  const skipEvents = async (id: number) => t.db.db.selectFrom('events').select(['type', 'data']).where('message_id', '=', id).where('type', '=', 'skipped').execute();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    l1 = (await seedList(t.db.db, t.accountId, 'Weekly', ['ab@gmail.com'])).id;
    l2 = (await seedList(t.db.db, t.accountId, 'Offers', ['ab@gmail.com'])).id;
    contactId = Number((await t.db.db.selectFrom('contacts').select('id').where('account_id', '=', t.accountId).executeTakeFirstOrThrow()).id);
    otherAccount = (await t.core.accounts.createAccount('Other sender')).id;
  });
  afterAll(async () => { await t?.close(); });

  it('skips exactly the blocked pending messages, in the same transaction, with one event each', async () => {
    const m = {
      l1Queued: await message(t.accountId, { category: 'subscription', listId: l1, status: 'queued' }),
      l1Deferred: await message(t.accountId, { category: 'subscription', listId: l1, status: 'deferred' }),
      l1Sent: await message(t.accountId, { category: 'subscription', listId: l1, status: 'sent' }),
      l2Queued: await message(t.accountId, { category: 'subscription', listId: l2, status: 'queued' }),
      transactional: await message(t.accountId, { category: 'transactional', listId: null, status: 'queued' }),
      otherAccount: await message(otherAccount, { category: 'subscription', listId: l1, status: 'queued' }),
    };
    const token = createUnsubscribeToken(keys(), { accountId: t.accountId, listId: l1, subject: 'c', subjectId: contactId, issuedAt: 1 });
    expect((await post(token)).statusCode).toBe(200);
    for (const id of [m.l1Queued, m.l1Deferred]) {
      expect(await statusOf(id)).toEqual({ status: 'skipped', reason: 'suppressed:unsubscribe' });
      expect((await skipEvents(id)).map((e) => JSON.parse(e.data!).reason)).toEqual(['suppressed:unsubscribe']);
    }
    for (const id of [m.l1Sent, m.l2Queued, m.transactional, m.otherAccount]) {
      expect((await statusOf(id)).status).not.toBe('skipped');
      expect(await skipEvents(id)).toHaveLength(0);
    }
    // A replay changes nothing more: no second event.
    expect((await post(token)).statusCode).toBe(200);
    expect(await skipEvents(m.l1Queued)).toHaveLength(1);
    // A hard bounce blocks everything, transactional mail included.
    await t.core.suppressions.add(t.accountId, [{ address: 'a.b@googlemail.com', scope: 'account', reason: 'hard_bounce' }], { source: 'bounce:test' });
    expect(await statusOf(m.transactional)).toEqual({ status: 'skipped', reason: 'suppressed:hard_bounce' });
    expect(await statusOf(m.l2Queued)).toEqual({ status: 'skipped', reason: 'suppressed:hard_bounce' });
    expect((await statusOf(m.otherAccount)).status).toBe('queued');
  });

  it('a message-row token unsubscribes that message\'s recipient from its list; another account\'s row is 404', async () => {
    const mine = await message(t.accountId, { category: 'subscription', listId: l2, status: 'sent', rcpt: 'Reader@Example.ORG' });
    await t.db.db.updateTable('messages').set({ rcpt_key: 'reader@example.org' }).where('id', '=', mine).execute();
    const theirs = await message(otherAccount, { category: 'subscription', listId: l2, status: 'sent' });
    const tok = (id: number) => createUnsubscribeToken(keys(), { accountId: t.accountId, listId: l2, subject: 'm', subjectId: id, issuedAt: 1 });
    expect((await post(tok(theirs))).statusCode).toBe(404);
    expect((await post(tok(mine))).statusCode).toBe(200);
    const got = await t.core.suppressions.get(t.accountId, 'READER@example.org');
    expect(got.entries).toMatchObject([{ address_key: 'reader@example.org', scope: 'list', list_id: l2, source: 'one-click' }]);
    expect((await t.core.suppressions.get(otherAccount, 'reader@example.org')).entries).toEqual([]);
  });

  it('two new entries for one address in one group commit skip its pending message once, with one event', async () => {
    const list = (await seedList(t.db.db, t.accountId, 'Twice', ['twice@example.net'])).id;
    const id = Number((await t.db.db.selectFrom('contacts').select('id').where('address', '=', 'twice@example.net').executeTakeFirstOrThrow()).id);
    const pending = await message(t.accountId, { category: 'subscription', listId: list, status: 'queued', rcpt: 'twice@example.net' });
    await t.db.db.updateTable('messages').set({ rcpt_key: 'twice@example.net' }).where('id', '=', pending).execute();
    // The list entry and the account-wide entry both block the message; both POSTs share one batch.
    const tok = (listId: string) => createUnsubscribeToken(keys(), { accountId: t.accountId, listId, subject: 'c', subjectId: id, issuedAt: 1 });
    const replies = await Promise.all([post(tok(list)), post(tok(''))]);
    expect(replies.map((r) => r.statusCode)).toEqual([200, 200]);
    expect((await t.core.suppressions.get(t.accountId, 'twice@example.net')).entries.map((e) => e.scope).sort()).toEqual(['account', 'list']);
    expect((await statusOf(pending)).status).toBe('skipped');
    expect(await skipEvents(pending)).toHaveLength(1);
  });

  it('concurrent POSTs (one group commit) each answer 200 after the commit; duplicates make no second row or history', async () => {
    const addrs = Array.from({ length: 20 }, (_, i) => `burst${i}@example.net`);
    const list = (await seedList(t.db.db, t.accountId, 'Burst', addrs)).id;
    const ids = (await t.db.db.selectFrom('contacts').select(['id']).where('address', 'like', 'burst%').execute()).map((r) => Number(r.id));
    const tokens = ids.flatMap((id) => {
      const tk = createUnsubscribeToken(keys(), { accountId: t.accountId, listId: list, subject: 'c', subjectId: id, issuedAt: 1 });
      return [tk, tk];
    });
    const replies = await Promise.all(tokens.map((tk) => post(tk)));
    expect(replies.map((r) => r.statusCode)).toEqual(tokens.map(() => 200));
    const rows = await t.db.db.selectFrom('suppressions').select('address_key').where('account_id', '=', t.accountId).where('list_id', '=', list).execute();
    expect(rows.map((r) => r.address_key).sort()).toEqual([...addrs].sort());
    const adds = await t.db.db.selectFrom('suppression_history').select('address_key').where('list_id', '=', list).where('action', '=', 'add').execute();
    expect(adds).toHaveLength(20);
  });
});
