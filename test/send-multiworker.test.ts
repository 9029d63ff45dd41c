import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const N = Number(process.env.MW_N ?? 5000);

/** Starts `tegami worker` as a separate OS process against the same database. */
function startWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d) => process.stderr.write(`[worker ${child.pid}] ${d}`));
  return child;
}

describe.skipIf(!DIALECTS.includes('postgres'))('two worker processes on PostgreSQL (issue 3)', () => {
  let t: TestApp;
  let sink: SmtpSink;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp('postgres');
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await t?.close();
    await sink?.close();
  });

  it(`send a ${N}-recipient campaign with 0 duplicates and 0 missing`, async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const addrs = Array.from({ length: N }, (_, i) => `r${i}@example.org`);
    const list = await seedList(t.db.db, t.accountId, 'big', addrs);
    const c = await t.core.campaigns.create(t.accountId, { name: 'big', list_ids: [list.id], from: 'news@example.com', subject: 'Hi', text: 'Hello {{ email }}' });
    const env = {
      TEGAMI_DATABASE_URL: `${t.db.url}?options=-c%20search_path%3D${t.db.schema}`,
      TEGAMI_MASTER_KEY: t.deps.masterKey.toString('base64'),
      TEGAMI_TRANSPORT_KIND: 'smtp', TEGAMI_TRANSPORT_SMTP_HOST: '127.0.0.1', TEGAMI_TRANSPORT_SMTP_PORT: String(sink.port),
      TEGAMI_TRANSPORT_SMTP_REJECT_UNAUTHORIZED: 'false', TEGAMI_WORKER_BATCH_SIZE: '100', TEGAMI_WORKER_POLL_MS: '50',
      TEGAMI_LOG_LEVEL: 'warn', TEGAMI_HTTP_PUBLIC_URL: 'https://mail.tegami.test', TEGAMI_CONFIG: '/dev/null',
    };
    workers.push(startWorker(env), startWorker(env));
    await t.core.campaigns.schedule(t.accountId, c.id);
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      const p = await t.core.campaigns.progress(t.accountId, c.id);
      if (p.status === 'sent') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const p = await t.core.campaigns.progress(t.accountId, c.id);
    expect(p).toMatchObject({ status: 'sent', planned: N, sent: N });
    const got = sink.messages.map((m) => m.rcptTo[0]);
    expect(got).toHaveLength(N);
    expect(new Set(got).size).toBe(N);
    // both processes did work
    const events = await t.db.db.selectFrom('events').select('data').where('type', '=', 'sent').where('campaign_id', '=', c.id).execute();
    expect(events).toHaveLength(N);
    const owners = new Set(events.map((e) => JSON.parse(e.data!).worker.split(':')[1]));
    expect(owners.size).toBe(2);
  }, 180_000);
});
