import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { mxTransport, type Resolver } from '../src/transport/mx.js';
import type { MtaStsPolicy } from '../src/transport/mta-sts.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const RAW = Buffer.from('From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\nMessage-ID: <1@example.com>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nhello\r\n');

/** DNS answers of the test world: every MX host points at 127.0.0.1 (no real DNS). */
const resolver: Resolver = async (name, type) => {
  const mx: Record<string, Array<{ exchange: string; priority: number }>> = {
    'example.net': [{ exchange: 'mx.example.net', priority: 10 }],
    'gmail.com': [{ exchange: 'gmail-smtp-in.l.google.com', priority: 5 }],
    'sts.example': [{ exchange: 'mx.sts.example', priority: 10 }],
    'nullmx.example': [{ exchange: '', priority: 0 }],
    'two.example': [{ exchange: 'mx.b.two.example', priority: 20 }, { exchange: 'mx.a.two.example', priority: 5 }],
    'xn--r8jz45g.jp': [{ exchange: 'mx.xn--r8jz45g.jp', priority: 10 }],
  };
  // mx.a.two.example points where nothing listens (the sink binds 127.0.0.1 only).
  if (type === 'A' && name === 'mx.a.two.example') return ['127.0.0.2'];
  if (type === 'A' && name === 'implicit.example') return ['127.0.0.1'];
  if (type === 'MX' && mx[name]) return mx[name];
  if (type === 'A' && /(mx\.|google\.com$)/.test(name)) return ['127.0.0.1'];
  const e = new Error(`no ${type} for ${name}`) as Error & { code: string };
  e.code = 'ENOTFOUND';
  throw e;
};

describe('mx direct delivery: resolver, STARTTLS rules, MTA-STS, SMTPUTF8 (issue 3 item 7)', () => {
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
    expect(tlsSink.messages.at(-1)).toMatchObject({ rcptTo: ['b@example.net'], secure: true, clientHostname: 'out.tegami.test' }); // R-INFRA-2
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

  it('delivers a UTF-8 local part when the host offers SMTPUTF8 (R-EAI-1)', async () => {
    const utf8Sink = await startSmtpSink({ smtpUtf8: true });
    try {
      const r = await send(utf8Sink.port, 'ユーザー@example.net', true);
      expect(r.status).toBe('sent');
      expect(utf8Sink.messages[0].rcptTo).toEqual(['ユーザー@example.net']);
      expect(utf8Sink.commands.find((c) => c.startsWith('MAIL FROM'))).toMatch(/ SMTPUTF8/);
    } finally {
      await utf8Sink.close();
    }
  });

  it('sends an IDN domain as its A-label, needing no SMTPUTF8 (R-EAI-1)', async () => {
    const r = await send(tlsSink.port, 'user@例え.jp');
    expect(r).toMatchObject({ status: 'sent', mx: 'mx.xn--r8jz45g.jp' });
    // smtp-server shows the domain as a U-label in the envelope; the wire command has the A-label.
    expect(tlsSink.commands).toContain('RCPT TO:<user@xn--r8jz45g.jp>');
  });

  it('tries MX hosts in preference order and moves on when one does not answer', async () => {
    const r = await send(tlsSink.port, 'p@two.example');
    expect(r).toMatchObject({ status: 'sent', mx: 'mx.b.two.example' });
  });

  it('uses the implicit MX (the A record) without MX records, and fails 5.1.2 without either (RFC 5321 §5.1)', async () => {
    expect(await send(tlsSink.port, 'q@implicit.example')).toMatchObject({ status: 'sent', mx: 'implicit.example' });
    const r = await send(tlsSink.port, 'q@nowhere.example');
    expect(r).toMatchObject({ status: 'failed', enhanced: '5.1.2', classification: { class: 'hard_bounce' } });
  });

  it('defers on a refused connection, as a network problem', async () => {
    const r = await send(1, 'd@example.net');
    expect(r).toMatchObject({ status: 'deferred' });
    expect(r.classification.class).toBe('network');
  });
});
