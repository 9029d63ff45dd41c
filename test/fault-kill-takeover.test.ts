import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClaimOf } from '../src/send/worker.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { childDatabaseUrl, childEnv, kill9, sinkTransportEnv, startTegami, terminate, waitFor, type TegamiProcess } from './helpers/tegami-process.js';

const N = 300;
const LEASE_S = 120;

/**
 * Issue 11: a sending process killed with `kill -9` and started again on the same machine (as
 * systemd's Restart=always does) takes its predecessor's leases over at once, instead of waiting
 * for the 120 s lease: the campaign finishes within seconds, every recipient reached, and only
 * messages in flight at the kill can arrive twice.
 */
describe.each(DIALECTS)('restart after kill -9 on the same machine, %s', (dialect) => {
  const args = dialect === 'postgres' ? ['worker'] : ['serve'];
  let t: TestApp;
  let sink: SmtpSink;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => {
    // 20 ms a message: the batches are on the wire when the process is killed.
    sink = await startSmtpSink({ hideSTARTTLS: true, dataReplyDelayMs: 20 });
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
    await sink?.close();
  });

  it(`${N} recipients, killed mid-campaign: the restarted process re-claims the dead one's batches at once`, async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'takeover', Array.from({ length: N }, (_, i) => `to${i}@example.org`));
    const c = await t.core.campaigns.create(t.accountId, { name: 'takeover', list_ids: [list.id], from: 'news@example.com', subject: 'T', text: 'Hello {{ email }}' });
    const env = childEnv(childDatabaseUrl(t.db), t.deps.masterKey, {
      ...sinkTransportEnv(sink.port), TEGAMI_WORKER_BATCH_SIZE: '50', TEGAMI_WORKER_CONCURRENCY: '5', TEGAMI_WORKER_LEASE_SECONDS: String(LEASE_S),
      TEGAMI_WORKER_POLL_MS: '50', TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    const first = await startTegami(args, env);
    procs.push(first);
    await t.core.campaigns.schedule(t.accountId, c.id);
    expect(await waitFor(async () => sink.messages.length >= N / 4, 60_000, 10)).toBe(true);
    await kill9(first);
    const leased = (await t.db.db.selectFrom('messages').select(['rcpt_key', 'lease_owner']).where('campaign_id', '=', c.id).where('status', '=', 'sending').execute())
      .filter((r) => isClaimOf(first.owner!, r.lease_owner));
    expect(leased.length).toBeGreaterThan(0); // the kill left leased batches behind
    const t0 = Date.now();
    const second = await startTegami(args, env);
    procs.push(second);
    const done = await waitFor(async () => (await t.core.campaigns.progress(t.accountId, c.id)).status === 'sent', 60_000, 100);
    expect(done).toBe(true);
    expect(Date.now() - t0).toBeLessThan(LEASE_S * 1000 / 4); // not after the lease
    expect(second.warnings.some((w) => w.msg === 'leases of a process of this machine that is gone were ended; its work is claimed again now' && w.table === 'messages')).toBe(true);
    const copies = new Map<string, number>();
    for (const m of sink.messages) copies.set(m.rcptTo[0].toLowerCase(), (copies.get(m.rcptTo[0].toLowerCase()) ?? 0) + 1);
    expect(copies.size).toBe(N);
    const inFlight = new Set(leased.map((r) => r.rcpt_key));
    expect([...copies].filter(([rcpt, n]) => n > 1 && !inFlight.has(rcpt))).toEqual([]);
    expect(await terminate(second)).toBe(0);
  }, 120_000);
});
