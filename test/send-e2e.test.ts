import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { dkimResolverFromDb, headerValues, verifyDkim } from './helpers/dkim.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const SINGLE = ['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type'];

describe.each(DIALECTS)('compliant sending end to end on %s (issue 3)', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  let domainId: string;
  let resolver: Awaited<ReturnType<typeof dkimResolverFromDb>>;
  const drain = () => t.sending!.drain();
  const sent = (rcpt: string) => sink.messages.filter((m) => m.rcptTo.includes(rcpt));

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp(dialect, {
      roles: ['api', 'worker'],
      configure: (c) => {
        c.transport.kind = 'smtp';
        Object.assign(c.transport.smtp, { host: '127.0.0.1', port: sink.port, requireTls: true, rejectUnauthorized: false, maxConnections: 3 });
        c.worker.concurrency = 5;
      },
    });
    const d = await t.api('POST', '/v1/domains', { name: 'example.com' });
    expect(d.status).toBe(201);
    domainId = d.json.id;
    resolver = await dkimResolverFromDb(t.db.db);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('sends transactional mail over STARTTLS with two passing DKIM signatures and no list headers', async () => {
    const r = await t.api('POST', '/v1/messages', {
      from: '"Example 株式会社" <notice@example.com>', to: ['tanaka@example.net'], subject: 'ご注文の確認 {{ order }}',
      html: '<p>Order {{ order }} for {{ name }}</p>', data: { order: 'A-1', name: '<b>Tanaka</b>' }, category: 'transactional',
      attachments: [{ filename: 'invoice.pdf', content_type: 'application/pdf', content: Buffer.from('%PDF-1.4 test').toString('base64') }],
    });
    expect(r.status).toBe(202);
    expect(r.json.messages[0].message_id).toMatch(/@example\.com>$/);
    await drain();
    const [m] = sent('tanaka@example.net');
    expect(m.secure).toBe(true);
    expect(m.mailFrom).toMatch(/^b\+[0-9a-z]+\.[0-9a-z]+@bounces\.example\.com$/);
    const results = await verifyDkim(m.raw, resolver);
    expect(results.map((x) => [x.algo, x.status.result])).toEqual([['rsa-sha256', 'pass'], ['ed25519-sha256', 'pass']]);
    for (const h of SINGLE) expect(headerValues(m.raw, h)).toHaveLength(1);
    expect(headerValues(m.raw, 'list-unsubscribe')).toHaveLength(0);
    expect(headerValues(m.raw, 'dkim-signature').join(' ')).not.toMatch(/\bl=/);
    expect(m.raw.toString('latin1').split('\r\n').every((l) => Buffer.byteLength(l, 'latin1') <= 998)).toBe(true);
    expect(/[^\x00-\x7f]/.test(m.raw.toString('latin1').split('\r\n\r\n')[0])).toBe(false);
    const parsed = await simpleParser(m.raw);
    expect(parsed.subject).toBe('ご注文の確認 A-1');
    expect(parsed.html).toContain('&lt;b&gt;Tanaka&lt;/b&gt;');
    expect(parsed.attachments[0].filename).toBe('invoice.pdf');
    const log = await t.api('GET', `/v1/messages/${r.json.messages[0].id}`);
    expect(log.json.status).toBe('sent');
    expect(log.json.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'sent']);
    expect(log.json.events[1].data.tls).toBe(true);
    // One process with the api and worker roles counts its sends on the front's /metrics.
    const sentEvents = (await t.db.db.selectFrom('events').select('id').where('type', '=', 'sent').execute()).length;
    expect((await t.api('GET', '/metrics')).body).toContain(`tegami_messages_total{status="sent"} ${sentEvents}`);
  });

  it('signs List-Unsubscribe and List-Unsubscribe-Post on subscription mail (R-AUTH-8, R-UNSUB-1, R-LIST-2)', async () => {
    const list = await seedList(t.db.db, t.accountId, 'Weekly news', []);
    const r = await t.api('POST', '/v1/messages', {
      from: 'news@example.com', to: ['sato@example.net'], subject: 'Weekly', html: '<p>Hello</p>', category: 'subscription', list_id: list.id,
    });
    expect(r.status).toBe(202);
    await drain();
    const [m] = sent('sato@example.net');
    const results = await verifyDkim(m.raw, resolver);
    expect(results.every((x) => x.status.result === 'pass')).toBe(true);
    const sig = headerValues(m.raw, 'dkim-signature')[0].replace(/\s+/g, '').toLowerCase();
    expect(sig).toMatch(/h=[^;]*list-unsubscribe:[^;]*list-unsubscribe-post/);
    const lu = headerValues(m.raw, 'list-unsubscribe');
    expect(lu).toHaveLength(1);
    expect(lu[0]).toMatch(/^<https:\/\/mail\.tegami\.test\/u\/v1\.[A-Za-z0-9._-]+>, <mailto:u\+k1\.[0-9a-z]+\.[0-9a-f]{24}@bounces\.example\.com\?subject=unsubscribe>$/);
    // RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
    expect(/<mailto:([^@]+)@/.exec(lu[0])![1].length).toBeLessThanOrEqual(64);
    expect(lu[0]).not.toContain('sato');
    expect(headerValues(m.raw, 'list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(headerValues(m.raw, 'list-id')).toEqual([`"Weekly news" <${list.id.replace(/_/g, '-')}.example.com>`]);
    expect(headerValues(m.raw, 'feedback-id')[0]).toMatch(/^api:acc_[0-9a-z]+:subscription:tegami$/);
    const parsed = await simpleParser(m.raw);
    expect(parsed.html).toContain('/u/v1.'); // R-UNSUB-10 footer added to the HTML part
    expect(parsed.text).toContain('Unsubscribe (https://mail.tegami.test/u/v1.');
    // an added second From breaks the over-signed signature (R-AUTH-6)
    const forged = Buffer.concat([Buffer.from('From: attacker@evil.test\r\n'), m.raw]);
    expect((await verifyDkim(forged, resolver)).map((x) => x.status.result)).toEqual(['fail', 'fail']);
  });

  it('skips a suppressed recipient at submit, and one suppressed after queueing at send time', async () => {
    await t.core.suppressions.add(t.accountId, [{ address: 'Blocked.User+x@Gmail.com', scope: 'account', reason: 'hard_bounce' }], { source: 'test' });
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['blockeduser@gmail.com'], subject: 'x', text: 'y', category: 'transactional' });
    expect(r.json.messages[0].status).toBe('skipped');
    expect(r.json.messages[0].reason).toBe('suppressed:hard_bounce');
    const q = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['later@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    expect(q.json.messages[0].status).toBe('queued');
    // Written behind the core's back so only the worker's re-check can catch it.
    await t.db.db.insertInto('suppressions').values({ account_id: t.accountId, address_key: 'later@example.net', scope: 'account', list_id: '', reason: 'complaint', source: 'test', note: null, ip: null, user_agent: null, created_at: Date.now() }).execute();
    await drain();
    expect(sent('blockeduser@gmail.com')).toHaveLength(0);
    expect(sent('later@example.net')).toHaveLength(0);
    const log = await t.api('GET', `/v1/messages/${q.json.messages[0].id}`);
    expect(log.json.status).toBe('skipped');
    expect(log.json.events.at(-1)).toMatchObject({ type: 'skipped', data: { reason: 'suppressed:complaint', at: 'send' } });
  });

  it('retries 421 with backoff and delivers; 550 5.1.1 is final, a bounce, and suppressed', async () => {
    sink.script('greylist@example.net', ['421 4.7.0 Try again later', '250']);
    sink.script('nouser@example.net', ['550 5.1.1 <nouser@example.net>: Recipient address rejected: User unknown']);
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['greylist@example.net', 'nouser@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    await drain();
    const [g, n] = r.json.messages;
    expect((await t.api('GET', `/v1/messages/${g.id}`)).json.status).toBe('deferred');
    const bounced = await t.api('GET', `/v1/messages/${n.id}`);
    expect(bounced.json.status).toBe('bounced');
    expect(bounced.json.events.at(-1).data).toMatchObject({ code: 550, enhanced: '5.1.1', class: 'hard_bounce' });
    const sup = await t.core.suppressions.get(t.accountId, 'nouser@example.net');
    expect(sup.entries[0]).toMatchObject({ reason: 'hard_bounce', scope: 'account' });
    t.clock.advance(11 * 60_000);
    await drain();
    const delivered = await t.api('GET', `/v1/messages/${g.id}`);
    expect(delivered.json.status).toBe('sent');
    expect(delivered.json.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'deferred', 'sent']);
    expect(sent('greylist@example.net')).toHaveLength(1);
    expect(sink.attempts.get('nouser@example.net')).toBe(1);
  });

  it('rejects a missing category, header injection, a foreign From domain and Cc on subscription mail', async () => {
    const base = { from: 'notice@example.com', to: ['a@example.net'], subject: 'x', text: 'y', category: 'transactional' };
    const cases: Array<[object, number, string]> = [
      [{ ...base, category: undefined }, 400, 'E_CATEGORY_REQUIRED'],
      [{ ...base, subject: 'hi\r\nBcc: victim@example.org' }, 400, 'E_HEADER_INJECTION'],
      [{ ...base, headers: { 'X-Ok': 'a\nBcc: victim@example.org' } }, 400, 'E_HEADER_INJECTION'],
      [{ ...base, headers: { 'List-Unsubscribe': '<https://evil>' } }, 400, 'E_HEADER_FORBIDDEN'],
      [{ ...base, headers: { 'X-A': '1', 'x-a': '2' } }, 400, 'E_VALIDATION'],
      [{ ...base, subject: 'Hi {{ name }}', data: { name: 'x\r\nBcc: victim@example.org' } }, 400, 'E_HEADER_INJECTION'],
      [{ ...base, from: '"A\r\nBcc: v@x.org" <notice@example.com>' }, 400, 'E_HEADER_INJECTION'],
      [{ ...base, from: 'someone@gmail.com' }, 422, 'E_DOMAIN_UNVERIFIED'],
      [{ ...base, from: 'a@example.com, b@example.com' }, 400, 'E_BAD_ADDRESS'],
      [{ ...base, category: 'subscription', list_id: 'lst_x', cc: ['c@example.net'] }, 400, 'E_CC_ON_SUBSCRIPTION'],
      [{ ...base, category: 'subscription' }, 400, 'E_LIST_REQUIRED'],
      [{ ...base, to: ['not an address'] }, 400, 'E_BAD_ADDRESS'],
    ];
    for (const [body, status, code] of cases) {
      const r = await t.api('POST', '/v1/messages', body);
      expect([r.status, r.json?.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect(Number((await t.db.db.selectFrom('messages').select((e) => e.fn.countAll().as('n')).where('rcpt', '=', 'a@example.net').executeTakeFirstOrThrow()).n)).toBe(0);
  });

  it('replays an Idempotency-Key and refuses its reuse with another body', async () => {
    const body = { from: 'notice@example.com', to: ['idem@example.net'], subject: 'x', text: 'y', category: 'transactional' };
    const a = await t.api('POST', '/v1/messages', body, { 'idempotency-key': 'k-1' });
    const b = await t.api('POST', '/v1/messages', body, { 'idempotency-key': 'k-1' });
    expect(b.json).toEqual(a.json);
    const c = await t.api('POST', '/v1/messages', { ...body, subject: 'other' }, { 'idempotency-key': 'k-1' });
    expect(c.json.error.code).toBe('E_IDEMPOTENCY_MISMATCH');
  });

  it('runs a campaign: plans once per recipient, skips unsubscribed and suppressed with reasons, reports', async () => {
    const addrs = Array.from({ length: 30 }, (_, i) => `c${i}@example.org`);
    const list = await seedList(t.db.db, t.accountId, 'Campaign list', addrs, { status: (i) => (i % 10 === 3 ? 'unsubscribed' : 'subscribed'), attributes: (i) => ({ first: `N${i}` }) });
    await t.core.suppressions.add(t.accountId, [{ address: 'c5@example.org', scope: 'list', listId: list.id, reason: 'unsubscribe' }], { source: 'test' });
    const c = await t.api('POST', '/v1/campaigns', { name: 'Nov', list_ids: [list.id], from: 'News <news@example.com>', subject: 'Hello {{ first }}', html: '<p>Hi {{ first }} <a href="{{ unsubscribe_url }}">unsubscribe</a></p>' });
    expect(c.status).toBe(201);
    expect((await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {})).json.status).toBe('scheduled');
    await drain();
    const p = await t.api('GET', `/v1/campaigns/${c.json.id}/progress`);
    expect(p.json).toMatchObject({ status: 'sent', planned: 30, sent: 26, skipped: 4, skipped_by_reason: { unsubscribed: 3, 'suppressed:unsubscribe': 1 } });
    const got = sink.messages.filter((m) => m.rcptTo[0].startsWith('c') && m.rcptTo[0].endsWith('@example.org'));
    expect(got).toHaveLength(26);
    expect(new Set(got.map((m) => m.rcptTo[0])).size).toBe(26);
    const one = got.find((m) => m.rcptTo[0] === 'c7@example.org')!;
    expect((await simpleParser(one.raw)).subject).toBe('Hello N7');
    expect((await verifyDkim(one.raw, resolver)).every((x) => x.status.result === 'pass')).toBe(true);
    const csv = await t.api('GET', `/v1/campaigns/${c.json.id}/report.csv`);
    expect(csv.body.split('\n')[0]).toBe('message_id,recipient,status,reason,attempts,sent_at,last_reply');
    expect(csv.body.trim().split('\n')).toHaveLength(31);
    // planning again cannot duplicate a recipient (unique key)
    await t.db.db.updateTable('campaigns').set({ status: 'scheduled', plan_cursor: '0' }).where('id', '=', c.json.id).execute();
    await drain();
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json.planned).toBe(30);
  });

  it('another account cannot see messages or campaigns (404)', async () => {
    const other = await t.core.accounts.createAccount('Other');
    const key = await t.core.accounts.createApiKey(other.id, 'k', ['admin']);
    const mine = await t.api('GET', '/v1/messages?limit=1');
    const id = mine.json.items[0].id;
    expect((await t.api('GET', `/v1/messages/${id}`, undefined, { authorization: `Bearer ${key.key}` })).status).toBe(404);
    expect((await t.api('GET', `/v1/domains/${domainId}`, undefined, { authorization: `Bearer ${key.key}` })).status).toBe(404);
  });
});
