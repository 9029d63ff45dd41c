import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

describe.each(DIALECTS)('a worker process stopped with SIGTERM on %s (graceful stop)', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  let child: ReturnType<typeof spawn> | null = null;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    child?.kill('SIGKILL'); // a failed run must not leave a worker behind
    await t?.close();
    await sink?.close();
  });

  it('finishes the batch in flight, releases its leases, exits 0, and another worker finishes the rest', async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'stop', Array.from({ length: 3000 }, (_, i) => `s${i}@example.org`));
    const c = await t.core.campaigns.create(t.accountId, { name: 'stop', list_ids: [list.id], from: 'news@example.com', subject: 'S', text: 'T' });
    await t.core.campaigns.schedule(t.accountId, c.id);
    const env = {
      ...process.env, TEGAMI_CONFIG: '/dev/null', TEGAMI_LOG_LEVEL: 'warn', TEGAMI_HTTP_PUBLIC_URL: 'https://mail.tegami.test',
      TEGAMI_DATABASE_URL: t.db.schema ? `${t.db.url}?options=-c%20search_path%3D${t.db.schema}` : t.db.url,
      TEGAMI_MASTER_KEY: t.deps.masterKey.toString('base64'), TEGAMI_TRANSPORT_KIND: 'smtp', TEGAMI_TRANSPORT_SMTP_HOST: '127.0.0.1',
      TEGAMI_TRANSPORT_SMTP_PORT: String(sink.port), TEGAMI_TRANSPORT_SMTP_REJECT_UNAUTHORIZED: 'false', TEGAMI_WORKER_BATCH_SIZE: '100',
    };
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = Date.now() + 60_000;
    while (sink.messages.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const stuck = await t.db.db.selectFrom('messages').select('id').where('campaign_id', '=', c.id).where('status', '=', 'sending').execute();
    expect(stuck).toEqual([]);
    const sentSoFar = sink.messages.length;
    expect(sentSoFar).toBeGreaterThanOrEqual(300);
    t.clock.set(Date.now() + 1000); // rows written by the child carry real time
    // This process's worker (capture transport) finishes the campaign from where the other stopped.
    const { createSendingRole } = await import('../src/send/sending-role.js');
    const { captureTransport } = await import('../src/transport/capture.js');
    const role = createSendingRole(t.deps, t.core.collab, captureTransport(t.db, t.clock), { start: false });
    await role.drain();
    const p = await t.core.campaigns.progress(t.accountId, c.id);
    expect(p).toMatchObject({ status: 'sent', sent: 3000 });
    const capturedN = Number((await t.db.db.selectFrom('captured').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    expect(capturedN + sentSoFar).toBe(3000); // nobody twice, nobody lost
  }, 120_000);
});
