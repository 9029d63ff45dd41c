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

  beforeAll(async () => {
    t = await createTestApp(dialect, { create: { log: pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } }) } });
    const l = await seedList(t.db.db, t.accountId, 'Weekly', ['reader@example.org']);
    const contactId = Number((await t.db.db.selectFrom('contacts').select('id').where('address', '=', 'reader@example.org').executeTakeFirstOrThrow()).id);
    token = createUnsubscribeToken(tokenKeys(t.deps.masterKey), { accountId: t.accountId, listId: l.id, subject: 'c', subjectId: contactId, issuedAt: 1 });
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
    expect(incoming).toEqual([
      'GET /u/<token>', 'GET /u/<token>/', 'GET /u/<token>/resubscribe', 'GET /u/<token>?x=1', 'POST /u/<token>', 'GET /healthz?probe=1',
    ]);
    expect(logged.filter((l) => l.msg === 'request completed')).toHaveLength(6);
    expect(logged.every((l) => l.component === 'http')).toBe(true);
  });
});
