import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { childDatabaseUrl, childEnv, startTegami, terminate, type TegamiProcess } from './helpers/tegami-process.js';

const POSTS = 80;

/**
 * Issue 11 item 2: kill -9 of the API process right after a one-click POST returned 200 → the
 * suppression is there after a restart (R-UNSUB-4: the reply is sent only after the ledger row
 * is committed; group commit must not answer before its batch is durable).
 */
describe.each(DIALECTS)('kill -9 right after one-click POSTs returned on %s (issue 11)', (dialect) => {
  let t: TestApp;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
  });

  it('every POST that was answered 200 before or around the kill is in the ledger after restart', async () => {
    const addrs = Array.from({ length: POSTS }, (_, i) => `oc${i}@example.org`);
    const list = await seedList(t.db.db, t.accountId, 'oneclick', addrs);
    const contacts = await t.db.db.selectFrom('contacts').select(['id', 'address']).where('account_id', '=', t.accountId).execute();
    const keys = tokenKeys(t.deps.masterKey);
    const env = childEnv(childDatabaseUrl(t.db), t.deps.masterKey);
    const api = await startTegami(['serve', '--roles', 'api'], env);
    procs.push(api);

    const answered: string[] = [];
    let killedAfter = -1;
    await Promise.allSettled(contacts.map(async (c) => {
      const token = createUnsubscribeToken(keys, { accountId: t.accountId, listId: list.id, subject: 'c', subjectId: Number(c.id), issuedAt: 1 });
      const res = await fetch(`${api.url}/u/${token}`, {
        method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
      answered.push(c.address);
      // The first reply that arrives: kill at once, no chance for anything to be flushed later.
      if (killedAfter < 0) {
        killedAfter = answered.length;
        process.kill(api.pid, 'SIGKILL');
      }
    }));
    await api.exited;
    expect(killedAfter).toBe(1);
    expect(answered.length).toBeGreaterThanOrEqual(1);

    const again = await startTegami(['serve', '--roles', 'api'], env);
    procs.push(again);
    const missing: string[] = [];
    for (const a of answered) {
      const r = await fetch(`${again.url}/v1/suppressions/${encodeURIComponent(a)}`, { headers: { authorization: `Bearer ${t.apiKey}` } });
      expect(r.status).toBe(200);
      const body = await r.json() as { entries: Array<{ reason: string; scope: string; list_id: string | null; source: string }> };
      const e = body.entries.find((x) => x.reason === 'unsubscribe' && x.scope === 'list' && x.list_id === list.id && x.source === 'one-click');
      if (!e) missing.push(a);
    }
    expect(missing).toEqual([]);
    // The ledger holds at least every answered POST (some unanswered ones may have committed too).
    const n = Number((await t.db.db.selectFrom('suppressions').select((e) => e.fn.countAll().as('n')).where('account_id', '=', t.accountId).executeTakeFirstOrThrow()).n);
    expect(n).toBeGreaterThanOrEqual(answered.length);
    expect(n).toBeLessThanOrEqual(POSTS);
    expect(await terminate(again)).toBe(0);
    console.info(`[fault-unsubscribe-kill ${dialect}] ${answered.length} POSTs answered 200 around the kill, ${n} suppressions committed`);
  }, 120_000);
});
