import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { smtpSend } from './helpers/smtp-client.js';
import { authenticate } from 'mailauth';
import { dkimResolverFromDb } from './helpers/dkim.js';

/** An RFC 3464 DSN as a remote MTA would send it for one of our messages. */
function dsn(rcpt: string, status: string, diag: string, original: string, action = 'failed') {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>', `To: ${'<>'}`, 'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"', '',
    '--B', 'Content-Type: text/plain', '', 'I could not deliver your message.', '',
    '--B', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '',
    `Final-Recipient: rfc822; ${rcpt}`, `Action: ${action}`, `Status: ${status}`, `Diagnostic-Code: smtp; ${diag}`, '',
    '--B', 'Content-Type: text/rfc822-headers', '', original.split(/\r?\n\r?\n/)[0], '', '--B--', '',
  ].join('\r\n');
}

/** An RFC 5965 ARF report quoting our original headers. */
function arf(original: string, rcpt: string, type = 'abuse') {
  return [
    'From: feedback@fbl.example.net', 'To: fbl@bounces.example.com', 'Subject: FW: complaint', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="F"', '',
    '--F', 'Content-Type: text/plain', '', 'This is an abuse report.', '',
    '--F', 'Content-Type: message/feedback-report', '', `Feedback-Type: ${type}`, 'User-Agent: ExampleFBL/1.0', 'Version: 1',
    `Original-Rcpt-To: ${rcpt}`, 'Source-IP: 192.0.2.10', '',
    '--F', 'Content-Type: text/rfc822-headers', '', original.split(/\r?\n\r?\n/)[0], '', '--F--', '',
  ].join('\r\n');
}

describe.each(DIALECTS)('bounce and complaint pipeline on %s (issue 5)', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  let listId: string;
  let arcDns: (name: string, type: string) => Promise<unknown> = async () => { throw Object.assign(new Error('no data'), { code: 'ENODATA' }); };
  const drain = () => t.sending!.drain();
  const sentTo = (rcpt: string) => sink.messages.filter((m) => m.rcptTo.includes(rcpt));
  const send = async (to: string, category: 'transactional' | 'subscription' = 'transactional') => {
    const r = await t.api('POST', '/v1/messages', { from: 'news@example.com', to: [to], subject: 'Hello', html: '<p>Hi <a href="{{ unsubscribe_url }}">unsubscribe</a></p>', category, ...(category === 'subscription' ? { list_id: listId } : {}) });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    return r.json.messages[0] as { id: number; message_id: string };
  };
  const suppressed = async (a: string) => (await t.core.suppressions.get(t.accountId, a).catch(() => ({ entries: [] }))).entries as Array<{ reason: string; scope: string; source: string }>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp(dialect, {
      roles: ['api', 'worker', 'smtp'],
      create: { inboundPort: 0, arcResolver: (n, ty) => arcDns(n, ty) },
      configure: (c) => {
        c.transport.kind = 'smtp';
        Object.assign(c.transport.smtp, { host: '127.0.0.1', port: sink.port, requireTls: false, rejectUnauthorized: false, maxConnections: 2 });
      },
    });
    expect((await t.api('POST', '/v1/domains', { name: 'example.com' })).status).toBe(201);
    arcDns = await dkimResolverFromDb(t.db.db);
    listId = (await seedList(t.db.db, t.accountId, 'News', ['held1@example.org', 'held2@example.org', 'held3@example.org'])).id;
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('logs a synchronous 550 5.1.1 as a hard bounce and suppresses at once (R-BNC-2)', async () => {
    sink.script('gone@example.net', ['550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown']);
    await send('gone@example.net');
    await drain();
    expect(await suppressed('gone@example.net')).toMatchObject([{ reason: 'hard_bounce', scope: 'account' }]);
    const log = await t.api('GET', '/v1/bounces?address=gone@example.net');
    expect(log.json.items).toMatchObject([{ kind: 'bounce', source: 'smtp', status: '5.1.1', class: 'hard_bounce', action: 'suppressed' }]);
  });

  it('suppresses on an asynchronous DSN delivered over SMTP to the VERP address, keeps the raw report', async () => {
    const m = await send('later-gone@example.net');
    await drain();
    const [out] = sentTo('later-gone@example.net');
    expect(out.mailFrom).toMatch(/^b\+[0-9a-z]+\.[0-9a-z]+@bounces\.example\.com$/);
    expect(await suppressed('later-gone@example.net')).toEqual([]);
    const report = dsn('later-gone@example.net', '5.1.1', '550 5.1.1 The email account that you tried to reach does not exist', out.raw.toString());
    const r = await smtpSend(t.inboundPort!, '', out.mailFrom, report);
    expect(r.ok, r.text).toBe(true);
    expect(await suppressed('later-gone@example.net')).toMatchObject([{ reason: 'hard_bounce', scope: 'account' }]);
    const msg = await t.api('GET', `/v1/messages/${m.id}`);
    expect(msg.json.status).toBe('bounced');
    expect(msg.json.events.at(-1)).toMatchObject({ type: 'bounced', data: { source: 'dsn', status: '5.1.1', class: 'hard_bounce', action: 'suppressed' } });
    const [ev] = (await t.api('GET', '/v1/bounces?address=later-gone@example.net')).json.items;
    expect(ev).toMatchObject({ source: 'dsn', kind: 'bounce', message_id: m.id });
    const raw = await t.api('GET', `/v1/bounces/${ev.id}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toMatch(/message\/rfc822/);
    expect(raw.body).toContain('Final-Recipient: rfc822; later-gone@example.net');
  });

  it('refuses a forged or foreign VERP address at RCPT (no relay, no forged suppression)', async () => {
    const m = await send('forge-target@example.net');
    await drain();
    const [out] = sentTo('forge-target@example.net');
    const forged = out.mailFrom.replace(/\.([0-9a-z]+)@/, (_x, sig: string) => `.${sig.slice(0, -1)}${sig.endsWith('a') ? 'b' : 'a'}@`);
    for (const rcpt of [forged, out.mailFrom.replace('bounces.example.com', 'gmail.com')]) {
      const r = await smtpSend(t.inboundPort!, '', rcpt, dsn('forge-target@example.net', '5.1.1', '550 user unknown', out.raw.toString()));
      expect(r.ok, rcpt).toBe(false);
      expect(r.text).toMatch(/^550 5\.1\.1/);
    }
    expect(await suppressed('forge-target@example.net')).toEqual([]);
    expect((await t.api('GET', `/v1/messages/${m.id}`)).json.status).toBe('sent');
  });

  it('suppresses after 5 soft bounces in a row; 4 then a delivery resets the count', async () => {
    sink.script('full@example.net', Array(5).fill('552 5.2.2 <full@example.net>: Mailbox full'));
    sink.script('fullish@example.net', [...Array(4).fill('552 5.2.2 Mailbox full'), '250', '552 5.2.2 Mailbox full']);
    for (let i = 0; i < 4; i++) {
      await send('full@example.net');
      await send('fullish@example.net');
      await drain();
    }
    expect(await suppressed('full@example.net')).toEqual([]);
    expect((await t.api('GET', '/v1/addresses/full@example.net/history')).json.soft_bounces_in_a_row).toBe(4);
    await send('full@example.net');
    await send('fullish@example.net'); // delivered: the run of 4 ends
    await drain();
    expect(await suppressed('full@example.net')).toMatchObject([{ reason: 'soft_bounce_limit', scope: 'account' }]);
    expect(await suppressed('fullish@example.net')).toEqual([]);
    await send('fullish@example.net');
    await drain();
    expect(await suppressed('fullish@example.net')).toEqual([]);
    expect((await t.api('GET', '/v1/addresses/fullish@example.net/history')).json.soft_bounces_in_a_row).toBe(1);
  });

  it('an auto-reply to the return path is logged and never suppresses', async () => {
    await send('away@example.net');
    await drain();
    const [out] = sentTo('away@example.net');
    const reply = ['From: away@example.net', `To: ${out.mailFrom}`, 'Subject: Out of Office: Hello', 'Auto-Submitted: auto-replied', '', 'I am away until Monday.', ''].join('\r\n');
    expect((await smtpSend(t.inboundPort!, '', out.mailFrom, reply)).ok).toBe(true);
    expect(await suppressed('away@example.net')).toEqual([]);
    expect((await t.api('GET', '/v1/bounces?address=away@example.net')).json.items).toMatchObject([{ kind: 'autoreply', action: 'ignored' }]);
  });

  it('an ARF complaint to the feedback-loop address suppresses account-wide and is counted', async () => {
    const m = await send('angry@example.net');
    await drain();
    const [out] = sentTo('angry@example.net');
    const r = await smtpSend(t.inboundPort!, 'feedback@fbl.example.net', 'fbl@bounces.example.com', arf(out.raw.toString(), 'angry@example.net'));
    expect(r.ok, r.text).toBe(true);
    expect(await suppressed('angry@example.net')).toMatchObject([{ reason: 'complaint', scope: 'account' }]);
    const msg = await t.api('GET', `/v1/messages/${m.id}`);
    expect(msg.json.events.at(-1)).toMatchObject({ type: 'complained', data: { source: 'arf', feedback_type: 'abuse' } });
    const complaints = await t.db.db.selectFrom('events').select('id').where('account_id', '=', t.accountId).where('type', '=', 'complained').execute();
    expect(complaints).toHaveLength(1);
  });

  it('matches an ARF report whose original lost its Message-ID by Feedback-ID and To', async () => {
    const m = await send('no-mid@example.net');
    await drain();
    const [out] = sentTo('no-mid@example.net');
    const original = out.raw.toString().replace(/^Message-ID:.*\r?\n/im, '').replace(/^Return-Path:.*\r?\n/im, '');
    expect(original).not.toMatch(/^Message-ID:/im);
    expect(original).toMatch(/^Feedback-ID: api:/im);
    expect((await smtpSend(t.inboundPort!, 'feedback@fbl.example.net', 'fbl@bounces.example.com', arf(original, 'no-mid@example.net'))).ok).toBe(true);
    expect(await suppressed('no-mid@example.net')).toMatchObject([{ reason: 'complaint' }]);
    expect((await t.api('GET', '/v1/bounces?address=no-mid@example.net')).json.items).toMatchObject([{ kind: 'complaint', message_id: m.id }]);
  });

  it('ARF not-spam and auth-failure reports suppress no one; an opt-out report unsubscribes from the list (RFC 6650)', async () => {
    for (const [type, to] of [['not-spam', 'fine@example.org'], ['auth-failure', 'dmarcfail@example.org']]) {
      await send(to);
      await drain();
      const [out] = sentTo(to);
      expect((await smtpSend(t.inboundPort!, 'feedback@fbl.example.net', 'fbl@bounces.example.com', arf(out.raw.toString(), to, type))).ok).toBe(true);
      expect(await suppressed(to), type).toEqual([]);
      expect((await t.api('GET', `/v1/bounces?address=${to}`)).json.items, type).toMatchObject([{ kind: 'feedback', action: 'ignored', feedback_type: type }]);
    }
    await t.db.db.insertInto('subscriptions').values({ account_id: t.accountId, list_id: listId, contact_id: 999_999, status: 'subscribed', consent_source: 'test', consent_at: 1, consent_ip: null, confirmed_at: 1, unsubscribed_at: null, created_at: 1, updated_at: 1 }).execute();
    const m = await send('optout@example.org', 'subscription');
    await drain();
    const [out] = sentTo('optout@example.org');
    expect((await smtpSend(t.inboundPort!, 'feedback@fbl.example.net', 'fbl@bounces.example.com', arf(out.raw.toString(), 'optout@example.org', 'opt-out'))).ok).toBe(true);
    expect(await suppressed('optout@example.org')).toMatchObject([{ reason: 'unsubscribe', scope: 'list' }]);
    expect((await t.api('GET', `/v1/messages/${m.id}`)).json.status).toBe('sent');
  });

  it('a success DSN ends the run of soft bounces', async () => {
    await send('flaky@example.net');
    await drain();
    const out = sentTo('flaky@example.net').at(-1)!;
    const full = dsn('flaky@example.net', '5.2.2', '552 5.2.2 Mailbox full', out.raw.toString());
    expect((await smtpSend(t.inboundPort!, '', out.mailFrom, full)).ok).toBe(true);
    expect((await t.api('GET', '/v1/addresses/flaky@example.net/history')).json.soft_bounces_in_a_row).toBe(1);
    const ok = dsn('flaky@example.net', '2.0.0', '250 2.0.0 OK', out.raw.toString(), 'delivered');
    expect((await smtpSend(t.inboundPort!, '', out.mailFrom, ok)).ok).toBe(true);
    expect((await t.api('GET', '/v1/addresses/flaky@example.net/history')).json.soft_bounces_in_a_row).toBe(0);
    expect((await t.api('GET', '/v1/bounces?address=flaky@example.net')).json.items.map((e: { kind: string }) => e.kind)).toEqual(['delivery', 'bounce']);
  });

  it('a sender-side 5.7.26 never suppresses: it holds the subscription stream with an alert until released (R-BNC-4)', async () => {
    sink.script('held1@example.org', ['550 5.7.26 Unauthenticated email from example.com is not accepted due to domain\'s DMARC policy']);
    await send('held1@example.org', 'subscription');
    await drain();
    expect(await suppressed('held1@example.org')).toEqual([]);
    const holds = (await t.api('GET', '/v1/stream-holds')).json.items;
    expect(holds).toMatchObject([{ stream: 'subscription', reason: 'sender_config' }]);
    const alerts = await t.db.db.selectFrom('events').select('data').where('account_id', '=', t.accountId).where('type', '=', 'alert').execute();
    expect(alerts.map((a) => JSON.parse(a.data!).kind)).toContain('stream_held');
    // Subscription mail of the domain waits; transactional mail still goes.
    const sub = await send('held2@example.org', 'subscription');
    const tx = await send('receipt@example.net');
    await drain();
    expect((await t.api('GET', `/v1/messages/${sub.id}`)).json).toMatchObject({ status: 'queued', reason: expect.stringMatching(/^stream_held:/) });
    expect((await t.api('GET', `/v1/messages/${tx.id}`)).json.status).toBe('sent');
    expect((await t.api('POST', `/v1/stream-holds/${holds[0].id}/release`)).status).toBe(204);
    t.clock.advance(6 * 60_000);
    await drain();
    expect((await t.api('GET', `/v1/messages/${sub.id}`)).json.status).toBe('sent');
    expect((await t.api('GET', '/v1/stream-holds')).json.items).toEqual([]);
  });

  it('keeps abuse@ and postmaster@ mail of configured domains, lists it and forwards it', async () => {
    expect((await t.api('PUT', '/v1/role-mail/settings', { forward_to: 'security@example.net' })).json.forward_to).toBe('security@example.net');
    const body = ['From: Reporter <reporter@isp.example>', 'To: abuse@example.com', 'Subject: Spam from your network', 'Message-ID: <abuse-1@isp.example>', '', 'See attached.', ''].join('\r\n');
    const r = await smtpSend(t.inboundPort!, 'reporter@isp.example', 'abuse@example.com', body);
    expect(r.ok, r.text).toBe(true);
    expect((await smtpSend(t.inboundPort!, 'x@isp.example', 'abuse@not-ours.example', body)).text).toMatch(/^550 5\.1\.1/);
    let list: any;
    for (let i = 0; i < 50; i++) {
      list = (await t.api('GET', '/v1/role-mail')).json;
      if (list.items[0]?.forward_status) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(list.items[0]).toMatchObject({ rcpt: 'abuse@example.com', subject: 'Spam from your network', forward_status: 'sent' });
    const fwd = sentTo('security@example.net');
    expect(fwd).toHaveLength(1);
    expect(fwd[0].raw.toString()).toContain('Message-ID: <abuse-1@isp.example>');
    // Sealed with example.com's key (R-AUTH-14): the next hop sees an intact ARC chain.
    expect(fwd[0].raw.toString()).toMatch(/^ARC-Seal: i=1;/m);
    const hop = await authenticate(fwd[0].raw, { ip: '198.51.100.7', helo: 'mx.tegami.test', sender: 'postmaster@example.com', mta: 'mx.next.test', resolver: arcDns as never, disableBimi: true });
    expect(hop.arc && hop.arc.status.result).toBe('pass');
    const tampered = Buffer.from(fwd[0].raw.toString().replace('See attached.', 'See nothing.'));
    const bad = await authenticate(tampered, { ip: '198.51.100.7', helo: 'mx.tegami.test', sender: 'postmaster@example.com', mta: 'mx.next.test', resolver: arcDns as never, disableBimi: true });
    expect(bad.arc && bad.arc.status.result).not.toBe('pass');
    const raw = await t.api('GET', `/v1/role-mail/${list.items[0].id}/raw`);
    expect(raw.body).toContain('See attached.');
  });

  it('refuses subscription mail whose only unsubscribe link is hidden, with the rule id (R-UNSUB-10)', async () => {
    const r = await t.api('POST', '/v1/messages', { from: 'news@example.com', to: ['held3@example.org'], subject: 'x', html: '<p>Hi</p><a href="{{ unsubscribe_url }}" style="display:none">unsubscribe</a>', category: 'subscription', list_id: listId });
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: 'E_COMPLIANCE' });
    expect(r.json.error.message).toContain('R-UNSUB-10');
    const c = await t.api('POST', '/v1/campaigns', { name: 'hidden', from: 'news@example.com', list_ids: [listId], subject: 'x', html: '<p>Hi</p><a href="{{ unsubscribe_url }}" style="font-size:0">unsubscribe</a>' });
    expect(c.status).toBe(422);
    expect(c.json.error.code).toBe('E_COMPLIANCE');
  });

  it('an ARF report mailed to abuse@ is kept as role mail and also processed as a complaint with its raw copy', async () => {
    await send('abuse-complainer@example.net');
    await drain();
    const [out] = sentTo('abuse-complainer@example.net');
    expect((await smtpSend(t.inboundPort!, 'fbl@isp.example', 'abuse@example.com', arf(out.raw.toString(), 'abuse-complainer@example.net'))).ok).toBe(true);
    expect(await suppressed('abuse-complainer@example.net')).toMatchObject([{ reason: 'complaint' }]);
    const [ev] = (await t.api('GET', '/v1/bounces?address=abuse-complainer@example.net')).json.items;
    expect(ev).toMatchObject({ kind: 'complaint', source: 'arf' });
    const raw = await t.api('GET', `/v1/bounces/${ev.id}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.body).toContain('Feedback-Type: abuse');
  });

  it('keeps other accounts out of the log', async () => {
    const other = await t.core.accounts.createAccount('Other');
    const key = await t.core.accounts.createApiKey(other.id, 'o', ['admin']);
    const [ev] = (await t.api('GET', '/v1/bounces?limit=1')).json.items;
    const res = await t.http!.inject({ method: 'GET', url: `/v1/bounces/${ev.id}/raw`, headers: { authorization: `Bearer ${key.key}` } });
    expect(res.statusCode).toBe(404);
    const list = await t.http!.inject({ method: 'GET', url: '/v1/bounces', headers: { authorization: `Bearer ${key.key}` } });
    expect(list.json().items).toEqual([]);
  });
});
