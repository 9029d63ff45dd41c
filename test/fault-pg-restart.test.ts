import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { seedList } from './helpers/fixtures.js';
import { privatePgUnavailable } from './helpers/private-pg.js';
import { startPrivatePgApp, type PrivatePgApp } from './helpers/private-pg-app.js';
import { childEnv, sinkTransportEnv, startTegami, terminate, waitFor, type TegamiProcess } from './helpers/tegami-process.js';

const N = Number(process.env.FAULT_N ?? 10_000);
const WORKERS = 2;
const BATCH = 50;
const LANES = defaultConfig().worker.lanes;
const unavailable = privatePgUnavailable();
// Under CI a missing part is a failure, never a silent skip.
if (unavailable && process.env.CI === 'true') throw new Error(`PostgreSQL restart test cannot run in CI: ${unavailable}`);
if (unavailable) console.warn(`[tegami tests] PostgreSQL restart test SKIPPED: ${unavailable} (test/fault-pg-connection.test.ts still cuts connections on the shared server)`);

/**
 * Issue 11 item 2: PostgreSQL restarts in the middle of a campaign → the workers finish it.
 * Runs a private server (never the shared one on 5432, which other suites use), stops it while
 * two `tegami worker` processes are sending, starts a third worker while it is down (it waits
 * for the database), and brings the server back.
 */
describe.skipIf(!!unavailable)('a PostgreSQL restart in the middle of a campaign (issue 11)', () => {
  let parts: PrivatePgApp;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => { parts = await startPrivatePgApp(); }, 120_000);
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await parts?.close();
  });

  it(`${N} recipients, 2 workers, server stopped for ~4 s and started again: finished, none lost`, async () => {
    const { pgs, store, app, sink, masterKey } = parts;
    const acc = await app.core.accounts.createAccount('restart');
    await app.core.domains.addDomain(acc.id, 'example.com');
    const list = await seedList(store.db, acc.id, 'restart', Array.from({ length: N }, (_, i) => `pg${i}@example.org`));
    const c = await app.core.campaigns.create(acc.id, { name: 'restart', list_ids: [list.id], from: 'news@example.com', subject: 'R', text: 'Hello {{ email }}' });
    const env = childEnv(pgs.url, masterKey, {
      ...sinkTransportEnv(sink.port), TEGAMI_WORKER_BATCH_SIZE: String(BATCH), TEGAMI_WORKER_LEASE_SECONDS: '15', TEGAMI_WORKER_POLL_MS: '50',
      TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    procs.push(...await Promise.all(Array.from({ length: WORKERS }, () => startTegami(['worker'], env))));
    await app.core.campaigns.schedule(acc.id, c.id);

    expect(await waitFor(async () => sink.messages.length >= N * 0.3, 120_000, 10)).toBe(true);
    pgs.stop();
    const atStop = sink.messages.length;
    // A worker started during the outage waits for the database instead of exiting.
    const late = startTegami(['worker'], env, 120_000);
    await new Promise((r) => setTimeout(r, 4000));
    pgs.start();
    procs.push(await late);

    const done = await waitFor(async () => {
      try { return (await app.core.campaigns.progress(acc.id, c.id)).status === 'sent'; } catch { return false; }
    }, 180_000, 250);
    expect(done).toBe(true);
    expect(atStop).toBeLessThan(N); // the restart really happened mid-campaign
    const p = await app.core.campaigns.progress(acc.id, c.id);
    expect(p).toMatchObject({ planned: N, sent: N, queued: 0 });
    const copies = new Map<string, number>();
    for (const m of sink.messages) copies.set(m.rcptTo[0], (copies.get(m.rcptTo[0]) ?? 0) + 1);
    expect(copies.size).toBe(N); // none lost
    // Only a batch whose outcome could not be recorded while the server was down is sent again:
    // at most one batch per lane (worker.lanes) of each worker that was running at the stop.
    const duplicates = sink.messages.length - N;
    expect(duplicates).toBeLessThanOrEqual(WORKERS * LANES * BATCH);
    expect(Math.max(...copies.values())).toBeLessThanOrEqual(2);
    // The running workers saw the outage, kept retrying and said when they recovered.
    for (const w of procs.slice(0, WORKERS)) expect(w.warnings.some((x) => x.msg === 'loop recovered')).toBe(true);
    const codes = await Promise.all(procs.map(terminate));
    expect(codes).toEqual(procs.map(() => 0));
    console.info(`[fault-pg-restart] ${N} recipients, stopped at ${atStop}, ${sink.messages.length} messages at the sink (${duplicates} re-sent)`);
  }, 300_000);
});
