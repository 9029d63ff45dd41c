import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

/**
 * A local error (the message could not be built or handed over, e.g. a database blip) asked no
 * receiver anything: it is retried in 30 s, not on the 10-minute 4xx schedule (R-BNC-3 is about
 * receivers' replies). Real parts: the build fails because the From domain is briefly not found
 * in the database, and the capture transport receives the retry.
 */
describe.each(DIALECTS)('retry after a local error on %s', (dialect) => {
  let t: TestApp;
  let domainId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'] });
    domainId = (await t.core.domains.addDomain(t.accountId, 'example.com')).id;
  });
  afterAll(async () => { await t?.close(); });

  const captured = async () => (await t.db.db.selectFrom('captured').select('rcpt_to').execute()).map((r) => r.rcpt_to);
  const renameDomain = (name: string) => t.db.db.updateTable('domains').set({ name }).where('id', '=', domainId).execute();

  it('defers for 30 s with the local error, then sends', async () => {
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['blip@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    expect(r.status).toBe(202);
    const t0 = t.clock.now();
    await renameDomain('elsewhere.example'); // the builder cannot find the From domain: a local error
    await t.sending!.drain();
    const m = await t.api('GET', `/v1/messages/${r.json.messages[0].id}`);
    expect(m.json.status).toBe('deferred');
    const ev = m.json.events.find((e: { type: string }) => e.type === 'deferred');
    expect(ev.data).toMatchObject({ reply: expect.stringMatching(/^local error: from domain example\.com/), rule: 'local-error' });
    expect(ev.data.next_attempt_at - t0).toBe(30_000);
    await renameDomain('example.com');
    t.clock.advance(29_000);
    await t.sending!.drain();
    expect(await captured()).not.toContain('blip@example.net');
    t.clock.advance(2_000);
    await t.sending!.drain();
    expect(await captured()).toContain('blip@example.net');
    expect((await t.api('GET', `/v1/messages/${r.json.messages[0].id}`)).json.status).toBe('sent');
  });
});
