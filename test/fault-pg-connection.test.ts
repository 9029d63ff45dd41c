import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { childDatabaseUrl, childEnv, sinkTransportEnv, startTegami, terminate, waitFor, type TegamiProcess } from './helpers/tegami-process.js';

const N = Number(process.env.FAULT_CONN_N ?? 5000);
const WORKERS = 2;
const BATCH = 50;
const LANES = defaultConfig().worker.lanes;
const CUT_AT = [0.2, 0.45, 0.7];

/**
 * Issue 11 item 1: a worker that loses its database connections keeps running and reconnects.
 * On the shared server this cuts only this test's connections (pg_terminate_backend by
 * application_name), several times during a campaign; the restart of a whole server is
 * test/fault-pg-restart.test.ts on a private instance.
 */
describe.skipIf(!DIALECTS.includes('postgres'))('worker database connections cut during a campaign (issue 11)', () => {
  let t: TestApp;
  let sink: SmtpSink;
  const procs: TegamiProcess[] = [];
  const appName = `tegami_fault_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    sink = await startSmtpSink({ hideSTARTTLS: true });
    t = await createTestApp('postgres');
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
    await sink?.close();
  });

  it(`${N} recipients, 2 workers, connections terminated ${CUT_AT.length} times: processes survive, campaign finishes, none lost`, async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'cut', Array.from({ length: N }, (_, i) => `cut${i}@example.org`));
    const c = await t.core.campaigns.create(t.accountId, { name: 'cut', list_ids: [list.id], from: 'news@example.com', subject: 'C', text: 'Hello {{ email }}' });
    const env = childEnv(childDatabaseUrl(t.db, `&application_name=${appName}`), t.deps.masterKey, {
      ...sinkTransportEnv(sink.port), TEGAMI_WORKER_BATCH_SIZE: String(BATCH), TEGAMI_WORKER_LEASE_SECONDS: '15', TEGAMI_WORKER_POLL_MS: '50',
      TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    procs.push(...await Promise.all(Array.from({ length: WORKERS }, () => startTegami(['worker'], env))));
    await t.core.campaigns.schedule(t.accountId, c.id);

    const cut: number[] = [];
    for (const fraction of CUT_AT) {
      expect(await waitFor(async () => sink.messages.length >= N * fraction, 120_000, 10)).toBe(true);
      const r = await sql<{ n: number }>`select count(pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = ${appName}`.execute(t.db.db);
      cut.push(Number(r.rows[0].n));
      await new Promise((res) => setTimeout(res, 300));
      for (const p of procs) expect(p.child.exitCode, `worker ${p.pid} survived the cut`).toBeNull();
    }
    expect(cut.every((n) => n > 0)).toBe(true);

    const finished = await waitFor(async () => (await t.core.campaigns.progress(t.accountId, c.id)).status === 'sent', 180_000, 250);
    expect(finished, JSON.stringify(await t.core.campaigns.progress(t.accountId, c.id))).toBe(true);
    expect(await t.core.campaigns.progress(t.accountId, c.id)).toMatchObject({ planned: N, sent: N, queued: 0 });
    const copies = new Map<string, number>();
    for (const m of sink.messages) copies.set(m.rcptTo[0], (copies.get(m.rcptTo[0]) ?? 0) + 1);
    expect(copies.size).toBe(N);
    // A cut can lose the record of the batch in flight of each lane (worker.lanes) of each worker: that batch is sent again.
    expect(sink.messages.length - N).toBeLessThanOrEqual(CUT_AT.length * WORKERS * LANES * BATCH);
    const codes = await Promise.all(procs.map(terminate));
    expect(codes).toEqual(procs.map(() => 0));
    console.info(`[fault-pg-connection] backends cut: ${cut.join(', ')}; ${sink.messages.length} messages for ${N} recipients`);
  }, 300_000);
});
