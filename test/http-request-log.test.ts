import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

// Request logs at the default level (info): one line when a request comes in, one when it is
// answered. A one-click token in them would let whoever reads the logs resubscribe the recipient.
describe.each(DIALECTS)('request logs on %s (issue 4: tokens are credentials)', (dialect) => {
  let t: TestApp;
  const lines: string[] = [];
  let token = '';
  let second = '';

  beforeAll(async () => {
    t = await createTestApp(dialect, { create: { log: pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } }) } });
    const l = await seedList(t.db.db, t.accountId, 'Weekly', ['reader@example.org', 'second@example.org']);
    const tokenOf = async (address: string) => createUnsubscribeToken(tokenKeys(t.deps.masterKey), {
      accountId: t.accountId, listId: l.id, subject: 'c', issuedAt: 1,
      subjectId: Number((await t.db.db.selectFrom('contacts').select('id').where('address', '=', address).executeTakeFirstOrThrow()).id),
    });
    token = await tokenOf('reader@example.org');
    second = await tokenOf('second@example.org');
  });
  afterAll(async () => { await t?.close(); });

  it('logs every /u/ request with the token replaced, and other URLs as they are', async () => {
    const urls = [`/u/${token}`, `/u/${token}/`, `/u/${token}/resubscribe`, `/u/${token}?x=1`];
    for (const url of urls) await t.http!.inject({ method: 'GET', url });
    await t.http!.inject({ method: 'POST', url: `/u/${token}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await t.http!.inject({ method: 'GET', url: '/healthz?probe=1' });
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; component?: string; req?: { method: string; url: string } });
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).not.toContain(token.slice(0, 24));
    const incoming = logged.filter((l) => l.msg === 'incoming request').map((l) => `${l.req!.method} ${l.req!.url}`);
    // The one-click POST logs nothing at info: the ledger holds its record (see the next test).
    expect(incoming).toEqual([
      'GET /u/<token>', 'GET /u/<token>/', 'GET /u/<token>/resubscribe', 'GET /u/<token>?x=1', 'GET /healthz?probe=1',
    ]);
    expect(logged.filter((l) => l.msg === 'request completed')).toHaveLength(5);
    expect(logged.every((l) => l.component === 'http')).toBe(true);
  });

  it('keeps one-click POSTs out of the info log; the ledger has each with its IP and user agent, /metrics counts them', async () => {
    const before = lines.length;
    const r = await t.http!.inject({ method: 'POST', url: `/u/${second}/`, payload: '', headers: { 'user-agent': 'Receiver/2.0' }, remoteAddress: '198.51.100.7' });
    expect(r.statusCode).toBe(200);
    expect(await t.http!.inject({ method: 'POST', url: `/u/${second}x` })).toMatchObject({ statusCode: 404 });
    expect(lines.slice(before)).toEqual([]);
    const h = (await t.core.suppressions.get(t.accountId, 'second@example.org')).history;
    expect(h).toEqual([expect.objectContaining({ action: 'add', reason: 'unsubscribe', ip: '198.51.100.7', user_agent: 'Receiver/2.0' })]);
    const m = (await t.http!.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toMatch(/^tegami_http_requests_total\{method="POST",route="\/u\/:token\/",status="200"\} 1$/m);
    expect(m).toMatch(/^tegami_http_requests_total\{method="POST",route="\/u\/:token",status="404"\} 1$/m);
  });
});
