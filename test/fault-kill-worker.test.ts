import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { isClaimOf } from '../src/send/worker.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { childDatabaseUrl, childEnv, kill9, sinkTransportEnv, startTegami, terminate, waitFor, type TegamiProcess } from './helpers/tegami-process.js';

const N = Number(process.env.FAULT_N ?? 10_000);
const KILL_AT = [0.15, 0.35, 0.55, 0.75];

/**
 * Issue 11 item 2: kill -9 during a 10,000-recipient campaign, counted at a real SMTP sink.
 * PostgreSQL: two `tegami worker` processes, one of them killed and restarted at each point.
 * SQLite: the single-process deployment (`tegami serve`, all roles), killed and restarted.
 * Expected: nobody lost; a recipient receives a second copy only if its message was in flight
 * (claimed under the killed process's lease, not yet recorded) at a kill, at most one extra
 * copy per such kill (DESIGN convention 8: a crashed worker's work is re-claimed after the lease).
 */
describe.each(DIALECTS)('kill -9 of sending processes during a campaign on %s (issue 11)', (dialect) => {
  const processes = dialect === 'postgres' ? 2 : 1;
  const args = dialect === 'postgres' ? ['worker'] : ['serve'];
  let t: TestApp;
  let sink: SmtpSink;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => {
    sink = await startSmtpSink({ hideSTARTTLS: true });
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
    await sink?.close();
  });

  it(`${N} recipients, ${KILL_AT.length} kills: none lost, duplicates only for messages in flight at a kill`, async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'kill', Array.from({ length: N }, (_, i) => `k${i}@example.org`));
    const c = await t.core.campaigns.create(t.accountId, { name: 'kill', list_ids: [list.id], from: 'news@example.com', subject: 'K', text: 'Hello {{ email }}' });
    const env = childEnv(childDatabaseUrl(t.db), t.deps.masterKey, {
      ...sinkTransportEnv(sink.port), TEGAMI_WORKER_BATCH_SIZE: '50', TEGAMI_WORKER_LEASE_SECONDS: '15', TEGAMI_WORKER_POLL_MS: '50',
      TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    procs.push(...await Promise.all(Array.from({ length: processes }, () => startTegami(args, env))));
    await t.core.campaigns.schedule(t.accountId, c.id);

    const inFlight: Array<Set<string>> = [];
    for (const [k, fraction] of KILL_AT.entries()) {
      const reached = await waitFor(async () => sink.messages.length >= N * fraction, 120_000, 10);
      expect(reached, `the sink reached ${N * fraction} messages before kill ${k + 1}`).toBe(true);
      const slot = k % processes;
      const victim = procs[slot];
      await kill9(victim);
      // The dead process's leases are frozen until they expire: exactly its messages in flight.
      const rows = await t.db.db.selectFrom('messages').select(['rcpt_key', 'lease_owner']).where('campaign_id', '=', c.id)
        .where('status', '=', 'sending').execute();
      inFlight.push(new Set(rows.filter((r) => isClaimOf(victim.owner!, r.lease_owner)).map((r) => r.rcpt_key)));
      procs[slot] = await startTegami(args, env);
    }

    const done = await waitFor(async () => (await t.core.campaigns.progress(t.accountId, c.id)).status === 'sent', 180_000, 250);
    expect(done).toBe(true);
    const p = await t.core.campaigns.progress(t.accountId, c.id);
    expect(p).toMatchObject({ planned: N, sent: N, queued: 0 });

    const copies = new Map<string, number>();
    for (const m of sink.messages) for (const r of m.rcptTo) copies.set(r.toLowerCase(), (copies.get(r.toLowerCase()) ?? 0) + 1);
    expect(copies.size).toBe(N); // none lost
    const unexplained: string[] = [];
    for (const [rcpt, n] of copies) {
      const kills = inFlight.filter((s) => s.has(rcpt)).length;
      if (n - 1 > kills) unexplained.push(`${rcpt}: ${n} copies, in flight at ${kills} kill(s)`);
    }
    expect(unexplained).toEqual([]);
    const duplicates = sink.messages.length - N;
    expect(duplicates).toBeLessThanOrEqual(inFlight.reduce((s, x) => s + x.size, 0));
    // The kills hit work in progress (otherwise this test would not exercise re-claiming).
    expect(inFlight.some((s) => s.size > 0)).toBe(true);

    const codes = await Promise.all(procs.map(terminate));
    expect(codes).toEqual(procs.map(() => 0));
    const stuck = await t.db.db.selectFrom('messages').select('id').where('campaign_id', '=', c.id).where('lease_owner', 'is not', null).execute();
    expect(stuck).toEqual([]);
    console.info(`[fault-kill-worker ${dialect}] ${N} recipients, ${sink.messages.length} messages at the sink, in flight at the kills: ${inFlight.map((s) => s.size).join(', ')}`);
  }, 300_000);
});
