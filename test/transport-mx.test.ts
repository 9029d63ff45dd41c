import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { mxTransport, type Resolver } from '../src/transport/mx.js';
import type { MtaStsPolicy } from '../src/transport/mta-sts.js';
import { smtpRelayTransport } from '../src/transport/smtp-relay.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const RAW = Buffer.from('From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\nMessage-ID: <1@example.com>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nhello\r\n');

/** DNS answers of the test world: every MX host points at 127.0.0.1 (no real DNS). */
const resolver: Resolver = async (name, type) => {
  const mx: Record<string, Array<{ exchange: string; priority: number }>> = {
    'example.net': [{ exchange: 'mx.example.net', priority: 10 }],
    'gmail.com': [{ exchange: 'gmail-smtp-in.l.google.com', priority: 5 }],
    'sts.example': [{ exchange: 'mx.sts.example', priority: 10 }],
    'nullmx.example': [{ exchange: '', priority: 0 }],
  };
  if (type === 'MX' && mx[name]) return mx[name];
  if (type === 'A' && /(mx\.|google\.com$)/.test(name)) return ['127.0.0.1'];
  const e = new Error(`no ${type} for ${name}`) as Error & { code: string };
  e.code = 'ENOTFOUND';
  throw e;
};

describe('transports: mx direct delivery and smarthost TLS rules (issue 3 item 7)', () => {
  let tlsSink: SmtpSink;
  let plainSink: SmtpSink;
  const policies = new Map<string, MtaStsPolicy>();
  const mx = (port: number) => {
    const cfg = defaultConfig().transport;
    cfg.mx.port = port;
    cfg.mx.ehloName = 'out.tegami.test';
    cfg.timeoutMs = 5000;
    return mxTransport(cfg, { resolver, policy: async (d) => policies.get(d) ?? { mode: 'none' }, log: pino({ level: 'silent' }) });
  };
  const send = (port: number, to: string, smtpUtf8 = false) =>
    mx(port).send({ accountId: 'a', envelope: { mailFrom: 'b+1.x@bounces.example.com', rcptTo: [to], smtpUtf8 }, raw: RAW });

  beforeAll(async () => {
    tlsSink = await startSmtpSink();
    plainSink = await startSmtpSink({ hideSTARTTLS: true });
  });
  afterAll(async () => {
    await tlsSink.close();
    await plainSink.close();
  });

  it('delivers over STARTTLS to the MX found through the injected resolver', async () => {
    const r = await send(tlsSink.port, 'b@example.net');
    expect(r).toMatchObject({ status: 'sent', mx: 'mx.example.net', tls: true, code: 250 });
    expect(tlsSink.messages.at(-1)).toMatchObject({ rcptTo: ['b@example.net'], secure: true });
  });

  it('falls back to plaintext only where TLS is not required (opportunistic)', async () => {
    const r = await send(plainSink.port, 'c@example.net');
    expect(r).toMatchObject({ status: 'sent', tls: false });
  });

  it('never sends in clear to a Gmail MX without STARTTLS (R-INFRA-3)', async () => {
    const before = plainSink.messages.length;
    const r = await send(plainSink.port, 'someone@gmail.com');
    expect(r.status).toBe('deferred');
    expect(r.tls).toBe(false);
    expect(plainSink.messages.length).toBe(before);
  });

  it('honours MTA-STS enforce: a non-matching MX or an invalid certificate gets nothing (R-INFRA-4)', async () => {
    policies.set('sts.example', { mode: 'enforce', mx: ['mx.other.example'] });
    const before = tlsSink.messages.length;
    const r1 = await send(tlsSink.port, 'x@sts.example');
    expect(r1.status).toBe('deferred');
    expect(r1.reply).toMatch(/MTA-STS/);
    policies.set('sts.example', { mode: 'enforce', mx: ['*.sts.example'] });
    const r2 = await send(tlsSink.port, 'x@sts.example'); // the sink's certificate is self-signed
    expect(r2.status).toBe('deferred');
    expect(tlsSink.messages.length).toBe(before);
    policies.set('sts.example', { mode: 'testing', mx: ['mx.other.example'] });
    expect((await send(tlsSink.port, 'x@sts.example')).status).toBe('sent');
  });

  it('fails with 5.6.7 when SMTPUTF8 is needed but not offered (R-EAI-1), and 5.1.10 on a null MX', async () => {
    const r = await send(tlsSink.port, 'ユーザー@example.net', true);
    expect(r).toMatchObject({ status: 'failed', enhanced: '5.6.7' });
    expect(r.classification.suppress).toBe(false);
    expect(await send(tlsSink.port, 'a@nullmx.example')).toMatchObject({ status: 'failed', enhanced: '5.1.10' });
  });

  it('defers on a refused connection, as a network problem', async () => {
    const r = await send(1, 'd@example.net');
    expect(r).toMatchObject({ status: 'deferred' });
    expect(r.classification.class).toBe('network');
  });

  it('the smarthost refuses to send in clear when STARTTLS is required and not offered', async () => {
    const cfg = defaultConfig().transport;
    Object.assign(cfg.smtp, { host: '127.0.0.1', port: plainSink.port, requireTls: true });
    cfg.timeoutMs = 5000;
    const t = smtpRelayTransport(cfg);
    const before = plainSink.messages.length;
    const r = await t.send({ accountId: 'a', envelope: { mailFrom: 'b@example.com', rcptTo: ['e@example.net'] }, raw: RAW });
    await t.close();
    expect(r.status).toBe('deferred');
    expect(plainSink.messages.length).toBe(before);
  });
});
