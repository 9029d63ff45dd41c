import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { dkimResolverFromDb, headerValues, verifyDkim } from './helpers/dkim.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { freePort, makeTlsFiles, relayClient, waitFor } from './relay-helpers.js';

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

describe.each(DIALECTS)('a relay process killed right after 250 on %s (issue 7 item 5)', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await t?.close();
    await sink?.close();
  });

  it('loses nothing: the message queued before 250 is delivered, signed, after a restart', async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'Weekly', []);
    await t.core.relay.createFilter(t.accountId, { header: 'X-Tegami-List', match: 'exact', value: 'weekly', list_id: list.id });
    const cred = await t.core.relay.createCredential(t.accountId, { name: 'crash' });
    const tls = makeTlsFiles();
    const port = await freePort();
    const env = {
      ...process.env, TEGAMI_CONFIG: '/dev/null', TEGAMI_LOG_LEVEL: 'warn', TEGAMI_HTTP_PUBLIC_URL: 'https://mail.tegami.test',
      TEGAMI_DATABASE_URL: t.db.schema ? `${t.db.url}?options=-c%20search_path%3D${t.db.schema}` : t.db.url,
      TEGAMI_MASTER_KEY: t.deps.masterKey.toString('base64'), TEGAMI_SMTP_SUBMISSION_PORT: String(port),
      TEGAMI_RELAY_TLS_CERT_FILE: tls.certFile, TEGAMI_RELAY_TLS_KEY_FILE: tls.keyFile,
      TEGAMI_TRANSPORT_KIND: 'smtp', TEGAMI_TRANSPORT_SMTP_HOST: '127.0.0.1', TEGAMI_TRANSPORT_SMTP_PORT: String(sink.port),
      TEGAMI_TRANSPORT_SMTP_REQUIRE_TLS: 'false', TEGAMI_TRANSPORT_SMTP_REJECT_UNAUTHORIZED: 'false', TEGAMI_WORKER_POLL_MS: '50',
    };
    const start = (roles: string) => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--roles', roles], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(c);
      return c;
    };
    // First process: the relay only, so nothing but the database can carry the message on.
    const first = start('smtp');
    await waitFor(() => listening(port), 60_000);
    const client = relayClient(port, { user: cred.username, pass: cred.password });
    const info = await client.sendMail({ from: 'news@example.com', to: 'crash@example.net', subject: 'After 250', text: 'kept', headers: { 'X-Tegami-List': 'weekly' } });
    first.kill('SIGKILL');
    client.close();
    expect(info.response).toMatch(/^250 2\.6\.0 queued as R\d+: 1 queued/);
    await once(first, 'exit');
    expect(first.signalCode).toBe('SIGKILL');
    const rows = await t.db.db.selectFrom('messages').select(['status', 'category']).where('rcpt', '=', 'crash@example.net').execute();
    expect(rows).toEqual([{ status: 'queued', category: 'subscription' }]);
    expect(sink.messages).toHaveLength(0);

    const second = start('smtp,worker');
    await waitFor(() => sink.messages.length > 0, 60_000);
    second.kill('SIGTERM');
    await once(second, 'exit');
    const [m] = sink.messages;
    expect(m.rcptTo).toEqual(['crash@example.net']);
    expect(headerValues(m.raw, 'subject')).toEqual(['After 250']);
    expect(headerValues(m.raw, 'list-unsubscribe')).toHaveLength(1);
    const results = await verifyDkim(m.raw, await dkimResolverFromDb(t.db.db));
    expect(results.map((r) => r.status.result)).toEqual(['pass', 'pass']);
    const [row] = await t.db.db.selectFrom('messages').select(['status']).where('rcpt', '=', 'crash@example.net').execute();
    expect(row.status).toBe('sent');
  }, 120_000);
});
