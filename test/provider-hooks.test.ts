import { createHmac, createSign, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';

/** SNS's string to sign (the test's own implementation of the AWS documentation). */
function snsSign(m: Record<string, string>, privateKey: string): Record<string, string> {
  const keys = m.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const s = createSign('RSA-SHA256');
  s.update(keys.filter((k) => m[k] !== undefined).map((k) => `${k}\n${m[k]}\n`).join(''));
  return { ...m, SignatureVersion: '2', SigningCertURL: CERT_URL, Signature: s.sign(privateKey, 'base64') };
}

describe.each(DIALECTS)('provider webhooks on %s (issue 5 item 5)', (dialect) => {
  let t: TestApp;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const fetched: string[] = [];
  const fakeFetch = (async (url: string | URL) => {
    fetched.push(String(url));
    if (String(url) === CERT_URL) return new Response(rsa.publicKey, { status: 200 });
    if (String(url).startsWith('https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription')) return new Response('<ok/>', { status: 200 });
    return new Response('no', { status: 404 });
  }) as typeof fetch;
  const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    t.http!.inject({ method: 'POST', url: url.replace(/^https?:\/\/[^/]+/, ''), payload: body, headers: { 'content-type': 'application/json', ...headers } });
  const suppressed = async (a: string) => (await t.core.suppressions.get(t.accountId, a).catch(() => ({ entries: [] }))).entries as Array<{ reason: string }>;
  const counts = async () => ({
    events: (await t.db.db.selectFrom('bounce_events').select('id').execute()).length,
    seen: (await t.db.db.selectFrom('provider_events_seen').select('hook_id').execute()).length,
  });

  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'], create: { fetch: fakeFetch } });
    expect((await t.api('POST', '/v1/domains', { name: 'example.com' })).status).toBe(201);
  });
  afterAll(async () => { await t?.close(); });

  it('Mailgun: a signed permanent failure suppresses once; a bad signature is 401 and writes nothing', async () => {
    const hook = (await t.api('POST', '/v1/provider-hooks', { provider: 'mailgun', secret: 'mg-signing-key' })).json;
    expect(hook.url).toBe(`https://mail.tegami.test/hooks/mailgun/${hook.id}`);
    const ts = String(Math.floor(t.clock.now() / 1000));
    const body = (token: string, key = 'mg-signing-key') => JSON.stringify({
      signature: { timestamp: ts, token, signature: createHmac('sha256', key).update(ts + token).digest('hex') },
      'event-data': { id: `ev-${token}`, event: 'failed', severity: 'permanent', recipient: 'mg-gone@example.net', 'delivery-status': { code: 550, message: '5.1.1 The email account does not exist' } },
    });
    const before = await counts();
    const bad = await post(hook.url, body('t1', 'wrong-key'));
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error).toMatchObject({ code: 'E_UNAUTHENTICATED', message: 'bad signature' });
    expect(await counts()).toEqual(before);
    expect(await suppressed('mg-gone@example.net')).toEqual([]);
    const ok = await post(hook.url, body('t2'));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ received: 1, applied: 1 });
    expect(await suppressed('mg-gone@example.net')).toMatchObject([{ reason: 'hard_bounce' }]);
    expect((await post(hook.url, body('t2'))).json()).toEqual({ received: 1, applied: 0 });
    // A replayed old signature is refused.
    t.clock.advance(60 * 60_000);
    expect((await post(hook.url, body('t3'))).statusCode).toBe(401);
  });

  it('SendGrid: ECDSA-signed spam reports suppress as complaints; tampered bytes are 401', async () => {
    const key = ec.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const hook = (await t.api('POST', '/v1/provider-hooks', { provider: 'sendgrid', secret: key })).json;
    const ts = String(Math.floor(t.clock.now() / 1000));
    const body = JSON.stringify([{ email: 'sg-angry@example.net', event: 'spamreport', sg_event_id: 'sg1', timestamp: Number(ts) }, { email: 'sg-ok@example.net', event: 'delivered', sg_event_id: 'sg2' }]);
    const sig = sign('sha256', Buffer.from(ts + body), ec.privateKey).toString('base64');
    const headers = { 'x-twilio-email-event-webhook-signature': sig, 'x-twilio-email-event-webhook-timestamp': ts };
    expect((await post(hook.url, body.replace('sg-angry', 'sg-other'), headers)).statusCode).toBe(401);
    expect(await suppressed('sg-other@example.net')).toEqual([]);
    const ok = await post(hook.url, body, headers);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await suppressed('sg-angry@example.net')).toMatchObject([{ reason: 'complaint' }]);
  });

  it('Postmark: Basic credentials generated by tegami; a hard bounce suppresses, a soft one is counted', async () => {
    const hook = (await t.api('POST', '/v1/provider-hooks', { provider: 'postmark' })).json;
    expect(hook.basic_auth).toMatch(/^tegami:/);
    const auth = { authorization: `Basic ${Buffer.from(hook.basic_auth).toString('base64')}` };
    const url = `/hooks/postmark/${hook.id}`;
    const hard = JSON.stringify({ RecordType: 'Bounce', ID: 1, Type: 'HardBounce', Email: 'pm-gone@example.net', Details: 'smtp;550 5.1.1 unknown user' });
    expect((await post(url, hard, { authorization: `Basic ${Buffer.from('tegami:nope').toString('base64')}` })).statusCode).toBe(401);
    expect((await post(url, hard)).statusCode).toBe(401);
    expect((await post(url, hard, auth)).statusCode).toBe(200);
    expect(await suppressed('pm-gone@example.net')).toMatchObject([{ reason: 'hard_bounce' }]);
    const soft = JSON.stringify({ RecordType: 'Bounce', ID: 2, Type: 'SoftBounce', Email: 'pm-full@example.net', Details: 'mailbox full' });
    expect((await post(url, soft, auth)).statusCode).toBe(200);
    expect(await suppressed('pm-full@example.net')).toEqual([]);
    expect((await t.api('GET', '/v1/addresses/pm-full@example.net/history')).json.soft_bounces_in_a_row).toBe(1);
  });

  it('Amazon SES through SNS: confirms the subscription, verifies signatures, matches our Message-ID', async () => {
    const hook = (await t.api('POST', '/v1/provider-hooks', { provider: 'ses', secret: TOPIC })).json;
    const url = `/hooks/ses/${hook.id}`;
    const confirm = snsSign({ Type: 'SubscriptionConfirmation', MessageId: 'c1', Token: 'tok', TopicArn: TOPIC, Message: 'confirm', SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok', Timestamp: '2026-11-23T00:00:00.000Z' }, rsa.privateKey);
    const c = await post(url, JSON.stringify(confirm), { 'content-type': 'text/plain; charset=UTF-8' });
    expect(c.statusCode, c.body).toBe(200);
    expect(fetched).toContain(confirm.SubscribeURL);

    const sent = await t.api('POST', '/v1/messages', { from: 'news@example.com', to: ['ses-gone@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    const mid = sent.json.messages[0].message_id.replace(/^<|>$/g, '');
    const ses = { notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'ses-gone@example.net', status: '5.1.1', action: 'failed', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] }, mail: { messageId: 'ses-internal-id', commonHeaders: { messageId: `<${mid}>` } } };
    const note = snsSign({ Type: 'Notification', MessageId: 'n1', TopicArn: TOPIC, Message: JSON.stringify(ses), Timestamp: '2026-11-23T00:00:01.000Z' }, rsa.privateKey);
    const tampered = { ...note, Message: note.Message.replace('ses-gone', 'ses-victim') };
    expect((await post(url, JSON.stringify(tampered), { 'content-type': 'text/plain' })).statusCode).toBe(401);
    expect((await post(url, JSON.stringify({ ...note, SigningCertURL: 'https://evil.example/cert.pem' }), { 'content-type': 'text/plain' })).statusCode).toBe(401);
    expect(await suppressed('ses-victim@example.net')).toEqual([]);
    const ok = await post(url, JSON.stringify(note), { 'content-type': 'text/plain' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await suppressed('ses-gone@example.net')).toMatchObject([{ reason: 'hard_bounce' }]);
    const msg = await t.api('GET', `/v1/messages/${sent.json.messages[0].id}`);
    expect(msg.json.events.at(-1)).toMatchObject({ type: 'bounced', data: { source: 'ses', class: 'hard_bounce' } });
  });

  it('unknown hooks are 404; another account cannot see or delete a hook', async () => {
    const missing = await post('/hooks/mailgun/ph_nope', '{}');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('E_NOT_FOUND');
    const [h] = (await t.api('GET', '/v1/provider-hooks')).json.items;
    const other = await t.core.accounts.createAccount('Other');
    const key = await t.core.accounts.createApiKey(other.id, 'o', ['admin']);
    const del = await t.http!.inject({ method: 'DELETE', url: `/v1/provider-hooks/${h.id}`, headers: { authorization: `Bearer ${key.key}` } });
    expect(del.statusCode).toBe(404);
    const list = await t.http!.inject({ method: 'GET', url: '/v1/provider-hooks', headers: { authorization: `Bearer ${key.key}` } });
    expect(list.json().items).toEqual([]);
  });
});
