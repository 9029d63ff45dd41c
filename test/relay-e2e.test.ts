import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { dkimResolverFromDb, headerValues, verifyDkim } from './helpers/dkim.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { clientDkimKey, freePort, makeTlsFiles, relayClient } from './relay-helpers.js';

type Err = Error & { responseCode?: number; response?: string };
const fail = async (p: Promise<unknown>): Promise<Err> => p.then(() => { throw new Error('expected the relay to refuse'); }, (e: Err) => e);

describe.each(DIALECTS)('SMTP relay end to end on %s (issue 7)', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  let port: number;
  let tlsPort: number;
  let cred: { username: string; password: string; id: string };
  let list: { id: string; name: string };
  let resolve: (name: string, type: string) => Promise<unknown>;
  const client = clientDkimKey('example.com', 'client');
  const to = (rcpt: string) => sink.messages.filter((m) => m.rcptTo.includes(rcpt));
  const send = (mail: Record<string, unknown>, auth: { user: string; pass: string } | null = { user: cred.username, pass: cred.password }, extra = {}) => {
    const c = relayClient(port, auth ?? undefined, extra);
    return c.sendMail({ from: 'News <news@example.com>', subject: 'Hello', text: 'Body text\n', ...mail }).finally(() => c.close());
  };
  const rowsFor = (rcpt: string) => t.db.db.selectFrom('messages').selectAll().where('rcpt', '=', rcpt).orderBy('id').execute();

  beforeAll(async () => {
    sink = await startSmtpSink();
    const tls = makeTlsFiles();
    tlsPort = await freePort();
    t = await createTestApp(dialect, {
      roles: ['api', 'smtp', 'worker'],
      configure: (c) => {
        c.transport.kind = 'smtp';
        Object.assign(c.transport.smtp, { host: '127.0.0.1', port: sink.port, requireTls: false, rejectUnauthorized: false });
        Object.assign(c.relay, { tlsCertFile: tls.certFile, tlsKeyFile: tls.keyFile, maxMessageBytes: 100_000, implicitTlsPort: tlsPort });
        c.worker.renderThreads = 0;
      },
      create: { relayPort: 0 },
    });
    port = t.services.relay.info!.port as number;
    expect(t.services.relay.info!.tlsPort).toBe(tlsPort);
    expect((await t.api('POST', '/v1/domains', { name: 'example.com' })).status).toBe(201);
    list = await seedList(t.db.db, t.accountId, 'Weekly news', []);
    const c = await t.api('POST', '/v1/smtp-credentials', { name: 'legacy CRM' });
    expect(c.status).toBe(201);
    cred = c.json;
    const f = await t.api('POST', '/v1/relay-filters', { header: 'X-Tegami-List', match: 'exact', value: 'weekly', list_id: list.id });
    expect(f.status).toBe(201);
    const fromDb = await dkimResolverFromDb(t.db.db);
    resolve = async (name, type) => (type === 'TXT' && name.toLowerCase() === client.name ? [[client.txt]] : fromDb(name, type));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('filter match: one-click headers per recipient, filter header removed, signed with both fields in h=, the client signature kept (R-UNSUB-1, R-AUTH-8)', async () => {
    const info = await send({ to: 'sato@example.net', headers: { 'X-Tegami-List': 'weekly' }, dkim: client.dkim });
    expect(info.response).toMatch(/^250 2\.6\.0 queued as R\d+: 1 queued, 0 suppressed$/);
    await t.sending!.drain();
    const [m] = to('sato@example.net');
    expect(m.mailFrom).toMatch(/^b\+[0-9a-z]+\.[0-9a-z]+@bounces\.example\.com$/);
    expect(headerValues(m.raw, 'x-tegami-list')).toEqual([]);
    const lu = headerValues(m.raw, 'list-unsubscribe');
    expect(lu).toHaveLength(1);
    expect(lu[0]).toMatch(/^<https:\/\/mail\.tegami\.test\/u\/v1\.[A-Za-z0-9._-]+>, <mailto:u\+k1\.[0-9a-z]+\.[0-9a-f]{24}@bounces\.example\.com\?subject=unsubscribe>$/);
    // RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
    expect(/<mailto:([^@]+)@/.exec(lu[0])![1].length).toBeLessThanOrEqual(64);
    expect(headerValues(m.raw, 'list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(headerValues(m.raw, 'list-id')).toEqual([`"Weekly news" <${list.id.replace(/_/g, '-')}.example.com>`]);
    expect(headerValues(m.raw, 'feedback-id')[0]).toMatch(/^relay:acc_[0-9a-z]+:subscription:tegami$/);
    expect(headerValues(m.raw, 'received')[0]).toMatch(/by localhost \(tegami relay\) with ESMTPSA/);
    const results = await verifyDkim(m.raw, resolve);
    expect(results.map((r) => [r.signingDomain, r.algo, r.status.result])).toEqual([
      ['example.com', 'rsa-sha256', 'pass'], ['example.com', 'ed25519-sha256', 'pass'], ['example.com', 'rsa-sha256', 'pass'],
    ]);
    expect(results[2].selector).toBe('client');
    for (const r of results.slice(0, 2)) {
      const h = r.signingHeaders!.keys.toLowerCase().split(/\s*:\s*/);
      expect(h).toContain('list-unsubscribe');
      expect(h).toContain('list-unsubscribe-post');
    }
    const [row] = await rowsFor('sato@example.net');
    expect(row).toMatchObject({ category: 'subscription', list_id: list.id, status: 'sent' });
    // The one-click URL unsubscribes exactly this recipient from the filter's list (R-UNSUB-3, R-UNSUB-8).
    const url = new URL(lu[0].slice(1, lu[0].indexOf('>')));
    const res = await t.http!.inject({ method: 'POST', url: url.pathname, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBeLessThan(300);
    const sup = await t.core.suppressions.get(t.accountId, 'sato@example.net');
    expect(sup.entries).toMatchObject([{ scope: 'list', list_id: list.id, reason: 'unsubscribe' }]);
  });

  it('filter miss: transactional, no one-click headers, message log queued -> sent', async () => {
    const info = await send({ to: 'notice@example.net', headers: { 'X-Tegami-List': 'other' }, dkim: client.dkim });
    expect(info.response).toMatch(/1 queued/);
    await t.sending!.drain();
    const [m] = to('notice@example.net');
    expect(headerValues(m.raw, 'list-unsubscribe')).toEqual([]);
    expect(headerValues(m.raw, 'x-tegami-list')).toEqual([]); // filter headers never leave, matched or not
    expect((await verifyDkim(m.raw, resolve)).map((r) => r.status.result)).toEqual(['pass', 'pass', 'pass']);
    const [row] = await rowsFor('notice@example.net');
    expect(row).toMatchObject({ category: 'transactional', list_id: null, status: 'sent' });
    const log = await t.api('GET', `/v1/messages/${row.id}`);
    expect(log.json.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'sent']);
    expect(log.json.events[0].data).toMatchObject({ via: 'relay', credential: cred.id });
  });

  it('a 4xx at the next hop is retried with backoff and the message log shows every attempt', async () => {
    sink.script('later@example.net', ['421 4.7.0 Try again later', '250']);
    await send({ to: 'later@example.net', headers: { 'X-Tegami-List': 'weekly' } });
    await t.sending!.drain();
    const [row] = await rowsFor('later@example.net');
    expect(row.status).toBe('deferred');
    expect(to('later@example.net')).toHaveLength(0);
    t.clock.advance(11 * 60_000);
    await t.sending!.drain();
    const [m] = to('later@example.net');
    expect(headerValues(m.raw, 'list-unsubscribe')).toHaveLength(1);
    expect((await verifyDkim(m.raw, resolve)).map((r) => r.status.result)).toEqual(['pass', 'pass']);
    const log = await t.api('GET', `/v1/messages/${row.id}`);
    expect(log.json.status).toBe('sent');
    expect(log.json.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'deferred', 'sent']);
    expect(log.json.events[1].data.reply).toMatch(/421/);
  });

  it('a regex filter matches, and a client-sent List-Unsubscribe is replaced; the client signature over it is removed (R-FMT-4)', async () => {
    const l2 = await seedList(t.db.db, t.accountId, 'Promotions', []);
    expect((await t.api('POST', '/v1/relay-filters', { header: 'X-Campaign', match: 'regex', value: '^promo-\\d+$', list_id: l2.id })).status).toBe(201);
    await send({
      to: 'ito@example.net', headers: { 'X-Campaign': 'promo-42', 'List-Unsubscribe': '<mailto:old@crm.example.com>', 'List-Id': '<old.crm.example.com>' },
      dkim: { ...client.dkim, headerFieldNames: 'From:To:Subject:List-Unsubscribe:List-Id' },
    });
    await t.sending!.drain();
    const [m] = to('ito@example.net');
    const lu = headerValues(m.raw, 'list-unsubscribe');
    expect(lu).toHaveLength(1);
    expect(lu[0]).toMatch(/^<https:\/\/mail\.tegami\.test\/u\//);
    expect(headerValues(m.raw, 'list-id')).toEqual([`"Promotions" <${l2.id.replace(/_/g, '-')}.example.com>`]);
    expect(m.raw.toString()).not.toContain('old@crm.example.com');
    const results = await verifyDkim(m.raw, resolve);
    expect(results.map((r) => [r.selector === 'client' ? 'client' : 'tegami', r.status.result])).toEqual([['tegami', 'pass'], ['tegami', 'pass']]);
    const [row] = await rowsFor('ito@example.net');
    expect(row.list_id).toBe(l2.id);
  });

  it('Cc guard: subscription mail with Cc or two envelope recipients goes out without one-click and with a warning; reject when configured (seed 001)', async () => {
    const info = await send({ to: 'to1@example.net', cc: 'cc1@example.net', headers: { 'X-Tegami-List': 'weekly' } });
    expect(info.response).toMatch(/2 queued, 0 suppressed; warning: cc_guard: the message has Cc\/Bcc/);
    const two = await send({ to: ['to2@example.net', 'to3@example.net'], headers: { 'X-Tegami-List': 'weekly' } });
    expect(two.response).toMatch(/warning: cc_guard: 2 envelope recipients/);
    await t.sending!.drain();
    for (const r of ['to1@example.net', 'cc1@example.net', 'to2@example.net', 'to3@example.net']) {
      const [m] = to(r);
      expect(headerValues(m.raw, 'list-unsubscribe')).toEqual([]);
      expect(headerValues(m.raw, 'list-unsubscribe-post')).toEqual([]);
      expect((await verifyDkim(m.raw, resolve)).every((x) => x.status.result === 'pass')).toBe(true);
    }
    const [row] = await rowsFor('cc1@example.net');
    const log = await t.api('GET', `/v1/messages/${row.id}`);
    expect(log.json.events[0].data.warnings[0]).toMatch(/^cc_guard/);
    t.deps.config.relay.ccGuard = 'reject';
    try {
      const e = await fail(send({ to: 'to4@example.net', cc: 'cc4@example.net', headers: { 'X-Tegami-List': 'weekly' } }));
      expect(e.responseCode).toBe(550);
      expect(e.response).toMatch(/^550 5\.7\.1 .*\[E_CC_ON_SUBSCRIPTION\]/);
      expect(await rowsFor('to4@example.net')).toEqual([]);
      // Transactional mail with Cc is not subscription mail: the guard does not apply.
      await send({ to: 'to5@example.net', cc: 'cc5@example.net' });
    } finally {
      t.deps.config.relay.ccGuard = 'warn';
    }
  });

  it('suppressed recipients are accepted at RCPT, not delivered, logged as skipped with the reason and counted (seed 002 item 3)', async () => {
    await t.core.suppressions.add(t.accountId, [{ address: 'gone@example.net', scope: 'account', reason: 'hard_bounce' }], { source: 'test' });
    await t.core.suppressions.add(t.accountId, [{ address: 'left@example.net', scope: 'list', listId: list.id, reason: 'unsubscribe' }], { source: 'test' });
    const info = await send({ to: ['ok@example.net', 'gone@example.net'] });
    expect(info.accepted).toEqual(['ok@example.net', 'gone@example.net']);
    expect(info.response).toMatch(/1 queued, 1 suppressed/);
    const sub = await send({ to: 'left@example.net', headers: { 'X-Tegami-List': 'weekly' } });
    expect(sub.response).toMatch(/0 queued, 1 suppressed/);
    await t.sending!.drain();
    expect(to('ok@example.net')).toHaveLength(1);
    expect(to('gone@example.net')).toHaveLength(0);
    expect(to('left@example.net')).toHaveLength(0);
    const [gone] = await rowsFor('gone@example.net');
    expect(gone).toMatchObject({ status: 'skipped', reason: 'suppressed:hard_bounce' });
    const log = await t.api('GET', `/v1/messages/${gone.id}`);
    expect(log.json.events).toMatchObject([{ type: 'skipped', data: { reason: 'suppressed:hard_bounce', at: 'relay' } }]);
    const stats = await t.api('GET', '/v1/relay/stats');
    expect(stats.json.skipped_by_reason).toMatchObject({ 'suppressed:hard_bounce': 1, 'suppressed:unsubscribe': 1 });
    expect(stats.json.by_status.sent).toBeGreaterThanOrEqual(5);
  });

  it('refuses: wrong password, AUTH before STARTTLS, relaying without AUTH, an oversized message, a foreign From domain, duplicate headers', async () => {
    const wrong = await fail(send({ to: 'x@example.net' }, { user: cred.username, pass: 'not-the-password' }));
    expect(wrong.response).toMatch(/^535 5\.7\.8 /);
    const early = await fail(send({ to: 'x@example.net' }, null, { requireTLS: false, ignoreTLS: true, auth: { user: cred.username, pass: cred.password } }));
    expect(early.response).toMatch(/^538 5\.7\.0 .*STARTTLS/);
    const anon = await fail(send({ to: 'x@example.net' }, null));
    expect(anon.response).toMatch(/^530 5\.7\.0 .*R-INFRA-7/);
    const anonPlain = await fail(send({ to: 'x@example.net' }, null, { requireTLS: false, ignoreTLS: true }));
    expect(anonPlain.response).toMatch(/^530 5\.7\.0 /);
    const big = await fail(send({ to: 'x@example.net', text: 'x'.repeat(150_000) }));
    expect(big.response).toMatch(/^552 5\.3\.4 /);
    const foreign = await fail(send({ to: 'x@example.net', from: 'someone@other.example' }));
    expect(foreign.response).toMatch(/^550 5\.7\.1 .*\[E_DOMAIN_UNVERIFIED\]/);
    const c = relayClient(port, { user: cred.username, pass: cred.password });
    const dup = await fail(c.sendMail({ envelope: { from: 'news@example.com', to: ['x@example.net'] }, raw: 'From: news@example.com\r\nTo: x@example.net\r\nSubject: a\r\nSubject: b\r\n\r\nhi\r\n' }).finally(() => c.close()));
    expect(dup.response).toMatch(/^554 5\.6\.0 .*R-FMT-4/);
    const c2 = relayClient(port, { user: cred.username, pass: cred.password });
    const noFrom = await fail(c2.sendMail({ envelope: { from: 'news@example.com', to: ['x@example.net'] }, raw: 'To: x@example.net\r\nSubject: a\r\n\r\nhi\r\n' }).finally(() => c2.close()));
    expect(noFrom.response).toMatch(/^554 5\.6\.0 .*no From field.*\[E_RELAY_MESSAGE\]/);
    // smtp-server refuses broken syntax itself (501); tegami refuses what it could not deliver (553).
    const badRcpt = await fail(send({ envelope: { from: 'news@example.com', to: ['x@localhost'] }, to: 'x@example.net' }));
    expect(badRcpt.response).toMatch(/^553 5\.1\.3 the recipient is not a valid address/);
    expect(await rowsFor('x@example.net')).toEqual([]);
  });

  it('implicit TLS on the second port; a revoked credential is refused; the per-credential rate applies', async () => {
    const c = relayClient(tlsPort, { user: cred.username, pass: cred.password }, { secure: true, requireTLS: false });
    const info = await c.sendMail({ from: 'news@example.com', to: 'tls@example.net', subject: 's', text: 't' });
    c.close();
    expect(info.response).toMatch(/^250 2\.6\.0 /);
    const slow = (await t.api('POST', '/v1/smtp-credentials', { name: 'slow', rate_per_minute: 2 })).json;
    await send({ to: 'r1@example.net' }, { user: slow.username, pass: slow.password });
    await send({ to: 'r2@example.net' }, { user: slow.username, pass: slow.password });
    const over = await fail(send({ to: 'r3@example.net' }, { user: slow.username, pass: slow.password }));
    expect(over.response).toMatch(/^451 4\.7\.1 /);
    expect((await t.api('DELETE', `/v1/smtp-credentials/${slow.id}`)).status).toBe(204);
    const revoked = await fail(send({ to: 'r4@example.net' }, { user: slow.username, pass: slow.password }));
    expect(revoked.response).toMatch(/^535 5\.7\.8 /);
  });

  it('address authentication: a credential with ip_auth relays for its addresses only, and stops when revoked', async () => {
    const elsewhere = (await t.api('POST', '/v1/smtp-credentials', { name: 'lan', allowed_ips: ['192.0.2.0/24'], ip_auth: true })).json;
    const denied = await fail(send({ to: 'ip@example.net' }, null));
    expect(denied.response).toMatch(/^530 5\.7\.0 /);
    // Its password does not work from an address outside allowed_ips either.
    expect((await fail(send({ to: 'ip@example.net' }, { user: elsewhere.username, pass: elsewhere.password }))).response).toMatch(/^535 /);
    const local = (await t.api('POST', '/v1/smtp-credentials', { name: 'loopback', allowed_ips: ['127.0.0.1'], ip_auth: true })).json;
    try {
      const info = await send({ to: 'ip@example.net' }, null, { requireTLS: false, ignoreTLS: true });
      expect(info.response).toMatch(/1 queued/);
      expect((await rowsFor('ip@example.net'))[0].status).toBe('queued');
    } finally {
      await t.api('DELETE', `/v1/smtp-credentials/${local.id}`);
    }
    expect((await fail(send({ to: 'ip2@example.net' }, null))).response).toMatch(/^530 /);
  });
  it('prunes stored bytes once every recipient is final; the message log stays; pending mail keeps its bytes', async () => {
    const before = await t.db.db.selectFrom('relay_messages').select(['id']).execute();
    const active = await t.db.db.selectFrom('messages').select(['data']).where('data', 'like', '{"relay":%').where('status', 'in', ['queued', 'deferred']).execute();
    expect(active.length).toBeGreaterThan(0); // the address-authenticated message above was never drained
    const logBefore = await t.db.db.selectFrom('messages').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
    t.deps.config.relay.keepHours = 0;
    t.clock.advance(1000);
    await (t.services.relay.info!.prune as () => Promise<void>)();
    const after = await t.db.db.selectFrom('relay_messages').select(['id']).execute();
    const keep = new Set(active.map((m) => Number(/\d+/.exec(m.data!)![0])));
    expect(new Set(after.map((r) => Number(r.id)))).toEqual(keep);
    expect(after.length).toBeLessThan(before.length);
    expect(await t.db.db.selectFrom('messages').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).toEqual(logBefore);
    // What is still queued is still delivered from its kept bytes.
    await t.sending!.drain();
    expect(to('ip@example.net')).toHaveLength(1);
  });
});
