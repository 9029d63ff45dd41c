import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keepLease, type LeaseKeeper } from '../src/send/lease-keeper.js';
import { renewLeases } from '../src/store/leases.js';
import { messagesRepo } from '../src/store/messages-repo.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

/** Renewals every 100 ms of real time; the lease itself is measured on the test's manual clock. */
const LEASE_MS = 400;
const log = { warn: () => {} };

/**
 * The lease of a claimed batch on the real database (issue 11: one message per recipient): renewed
 * under the claim's own token, fenced against a claim that took the rows over, and no
 * transmission starts once the lease may have run out.
 */
describe.each(DIALECTS)('a batch lease on %s', (dialect) => {
  let t: TestApp;
  let keeper: LeaseKeeper | null = null;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.core.domains.addDomain(t.accountId, 'example.com');
  });
  afterAll(async () => { await t?.close(); });
  beforeEach(() => { keeper?.stop(); keeper = null; });

  /** Queues n messages and claims them under `token`. */
  async function claim(token: string, n: number) {
    for (let i = 0; i < n; i++) {
      const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: [`k${i}-${token.replace('/', '-')}@example.net`], subject: 'x', text: 'y', category: 'transactional' });
      expect(r.status).toBe(202);
    }
    const rows = await messagesRepo(t.db).claimDue(token, t.clock.now(), LEASE_MS, n);
    expect(rows).toHaveLength(n);
    return rows.map((r) => Number(r.id));
  }
  /** The lease of each row, in the order of `ids`. */
  const leaseOf = async (ids: number[]) => {
    const rows = await t.db.db.selectFrom('messages').select(['id', 'lease_owner', 'lease_until']).where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [Number(r.id), { owner: r.lease_owner, until: Number(r.lease_until) }]));
    return ids.map((id) => byId.get(id)!);
  };
  const until = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const keep = (token: string, ids: number[], renew = (i: number[], u: number) => renewLeases(t.db, 'messages', token, i, u)) =>
    (keeper = keepLease({ ids, until: t.clock.now() + LEASE_MS, leaseMs: LEASE_MS, clock: t.clock, log, renew }));

  it('is renewed under its token while the batch is in flight, and not after stop', async () => {
    const ids = await claim('w1/1', 3);
    const k = keep('w1/1', ids);
    t.clock.advance(300); // 100 ms of the lease left on the clock
    expect(await k.mayStart(ids[0])).toBe(true); // waited for a renewal
    const renewed = await leaseOf(ids);
    expect(renewed.every((r) => r.owner === 'w1/1' && r.until >= t.clock.now() + LEASE_MS / 2)).toBe(true);
    k.stop();
    t.clock.advance(1000);
    await until(250);
    expect(await leaseOf(ids)).toEqual(renewed);
    expect(await k.mayStart(ids[1])).toBe(false);
  });

  it('reports rows another claim took over as lost and does not start them', async () => {
    const ids = await claim('w1/2', 3);
    const k = keep('w1/2', ids);
    // Another claim took one row over (as after a lapse of this lease during an outage).
    await t.db.db.updateTable('messages').set({ lease_owner: 'w2/1' }).where('id', '=', ids[1]).execute();
    await until(250);
    expect([...k.lost]).toEqual([ids[1]]);
    expect(await k.mayStart(ids[1])).toBe(false);
    expect(await k.mayStart(ids[0])).toBe(true);
    expect((await leaseOf([ids[1]]))[0].owner).toBe('w2/1');
  });

  it('stops renewing a row whose outcome is written, without calling it lost', async () => {
    const ids = await claim('w1/4', 2);
    const k = keep('w1/4', ids);
    // The first row's outcome is recorded: the record clears its lease.
    await t.db.db.updateTable('messages').set({ status: 'sent', lease_owner: null, lease_until: null }).where('id', '=', ids[0]).execute();
    k.done(ids[0]);
    t.clock.advance(300);
    await until(250);
    expect(k.lost.size).toBe(0);
    const [a, b] = await leaseOf(ids);
    expect(a).toEqual({ owner: null, until: 0 });
    expect(b.owner).toBe('w1/4');
    expect(b.until).toBeGreaterThanOrEqual(t.clock.now() + LEASE_MS / 2);
  });

  it('while renewals fail, waits for one that gets through; once the lease has run out, starts nothing', async () => {
    const ids = await claim('w1/3', 2);
    let failing = true;
    const k = keep('w1/3', ids, async (i, u) => {
      if (failing) throw new Error('connection terminated unexpectedly');
      return renewLeases(t.db, 'messages', 'w1/3', i, u);
    });
    t.clock.advance(250); // less than half the lease left: no transmission starts without a renewal
    const waiting = k.mayStart(ids[0]);
    let settled = false;
    void waiting.then(() => { settled = true; });
    await until(300);
    expect(settled).toBe(false);
    failing = false;
    expect(await waiting).toBe(true);
    failing = true;
    t.clock.advance(LEASE_MS + 1); // every renewal since failed and the lease ran out
    expect(await k.mayStart(ids[1])).toBe(false);
  });
});
