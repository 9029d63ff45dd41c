import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import type { Config } from '../src/config/schema.js';
import { smtpRelayTransport } from '../src/transport/smtp-relay.js';
import type { Transport } from '../src/transport/types.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const RAW = Buffer.from('From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\nMessage-ID: <1@example.com>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nhello\r\n');
const USER = { user: 'relay', pass: 's3cret' };

/** A smarthost config pointing at a sink; the sink's certificate is self-signed. */
function relayConfig(port: number, smtp: Partial<Config['transport']['smtp']> = {}): Config['transport'] {
  const cfg = defaultConfig().transport;
  Object.assign(cfg.smtp, { host: '127.0.0.1', port, ...USER, rejectUnauthorized: false, maxConnections: 2 }, smtp);
  cfg.kind = 'smtp';
  cfg.timeoutMs = 5000;
  return cfg;
}

const send = (t: Transport, to: string) => t.send({ accountId: 'acc', envelope: { mailFrom: 'b+1.x@bounces.example.com', rcptTo: [to] }, raw: RAW });

describe('smtp smarthost transport (pooled nodemailer SMTPConnections, issue 3 item 7)', () => {
  let tlsSink: SmtpSink;
  let plainSink: SmtpSink;
  let relay: Transport;

  beforeAll(async () => {
    tlsSink = await startSmtpSink({ auth: USER });
    plainSink = await startSmtpSink({ hideSTARTTLS: true });
    relay = smtpRelayTransport(relayConfig(tlsSink.port));
  });
  afterAll(async () => {
    await relay.close();
    await tlsSink.close();
    await plainSink.close();
  });

  it('delivers over STARTTLS with AUTH; the sink sees a secure session and the exact bytes', async () => {
    const r = await send(relay, 'ok@example.net');
    expect(r).toMatchObject({ status: 'sent', code: 250, tls: true, mx: '127.0.0.1', classification: { class: 'delivered' } });
    const got = tlsSink.messages.at(-1)!;
    expect(got).toMatchObject({ mailFrom: 'b+1.x@bounces.example.com', rcptTo: ['ok@example.net'], secure: true });
    expect(got.raw.toString()).toBe(RAW.toString());
  });

  it('keeps connections open across messages (pooled)', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(relay, `pool${i}@example.net`)));
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(tlsSink.connections).toBeLessThanOrEqual(2 + 1); // maxConnections 2, plus the first test's connection at most
  });

  it('421 is deferred with its reply, then the same recipient is accepted', async () => {
    const fresh = smtpRelayTransport(relayConfig(tlsSink.port));
    tlsSink.script('flaky@example.net', ['421 4.7.0 Try again later, closing connection.', '250']);
    const r1 = await send(fresh, 'flaky@example.net');
    expect(r1).toMatchObject({ status: 'deferred', code: 421, enhanced: '4.7.0', classification: { class: 'rate_limited', suppress: false, permanent: false } });
    const r2 = await send(fresh, 'flaky@example.net');
    await fresh.close();
    expect(r2.status).toBe('sent');
    expect(tlsSink.attempts.get('flaky@example.net')).toBe(2);
  });

  it('a 421-and-close on a reused pooled connection reports the 421 and is not retried at once (R-BNC-3)', async () => {
    // Both pooled connections were used by the pooling test. nodemailer alone would report a
    // reply-less "Reached maximum number of retries" here, losing the 4.7.28 that drives backoff.
    tlsSink.script('busy@example.net', ['421 4.7.28 Gmail has detected an unusual rate of unsolicited mail.', '250']);
    const r = await send(relay, 'busy@example.net');
    expect(r).toMatchObject({ status: 'deferred', code: 421, enhanced: '4.7.28', classification: { class: 'rate_limited' } });
    expect(r.reply).toContain('unusual rate');
    expect(tlsSink.attempts.get('busy@example.net')).toBe(1); // the worker, not the pool, decides when to retry
  });

  it('550 5.1.1 is final and a hard bounce to suppress (R-BNC-1, R-BNC-2)', async () => {
    tlsSink.script('gone@example.net', ['550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown']);
    const before = tlsSink.messages.length;
    const r = await send(relay, 'gone@example.net');
    expect(r).toMatchObject({ status: 'failed', code: 550, enhanced: '5.1.1', classification: { class: 'hard_bounce', suppress: true, permanent: true } });
    expect(r.reply).toContain('User unknown');
    expect(tlsSink.messages.length).toBe(before);
  });

  it('a sender-requirement rejection holds the stream and never suppresses (R-BNC-4)', async () => {
    tlsSink.script('strict@example.net', ['550 5.7.26 This mail has been blocked because the sender is unauthenticated.']);
    const r = await send(relay, 'strict@example.net');
    expect(r).toMatchObject({ status: 'failed', classification: { class: 'sender_config', suppress: false, holdStream: true } });
  });

  it('refuses to send in clear when STARTTLS is required and the host hides it', async () => {
    const t = smtpRelayTransport(relayConfig(plainSink.port, { user: '', pass: '' }));
    const r = await send(t, 'e@example.net');
    await t.close();
    expect(r.status).toBe('deferred');
    expect(r.classification.class).toBe('network');
    expect(plainSink.messages.length).toBe(0);
  });

  it('sends in clear only when requireTls is explicitly false (opportunistic)', async () => {
    const t = smtpRelayTransport(relayConfig(plainSink.port, { user: '', pass: '', requireTls: false }));
    const r = await send(t, 'f@example.net');
    await t.close();
    expect(r).toMatchObject({ status: 'sent', tls: false });
    expect(plainSink.messages.at(-1)).toMatchObject({ rcptTo: ['f@example.net'], secure: false });
  });

  it('wrong credentials defer with sender_config and hold, never fail the message', async () => {
    const t = smtpRelayTransport(relayConfig(tlsSink.port, { pass: 'wrong' }));
    const r = await send(t, 'g@example.net');
    await t.close();
    expect(r).toMatchObject({ status: 'deferred', classification: { class: 'sender_config', holdStream: true, suppress: false } });
  });

  it('a refused connection is deferred as a network problem', async () => {
    const t = smtpRelayTransport(relayConfig(1));
    const r = await send(t, 'h@example.net');
    await t.close();
    expect(r).toMatchObject({ status: 'deferred', code: null, classification: { class: 'network', permanent: false } });
  });

  it('a connection the server closed while idle is not used again: the next message opens a new one', async () => {
    const sink = await startSmtpSink({ socketTimeoutMs: 300 });
    const t = smtpRelayTransport(relayConfig(sink.port, { user: '', pass: '', maxConnections: 1 }));
    try {
      expect((await send(t, 'first@example.net')).status).toBe('sent');
      await new Promise((r) => setTimeout(r, 800)); // the sink times the idle session out
      expect((await send(t, 'second@example.net')).status).toBe('sent');
      expect(sink.connections).toBe(2);
      expect(sink.messages.map((m) => m.rcptTo[0])).toEqual(['first@example.net', 'second@example.net']);
    } finally {
      await t.close();
      await sink.close();
    }
  });

  it('dot-stuffs the raw message: lines starting with a dot and a lone dot arrive unchanged', async () => {
    const raw = Buffer.from('From: a@example.com\r\nTo: b@example.net\r\nSubject: dots\r\n\r\n.leading dot\r\n.\r\n..two\r\nend\r\n');
    const r = await relay.send({ accountId: 'acc', envelope: { mailFrom: 'b+1.x@bounces.example.com', rcptTo: ['dots@example.net'] }, raw });
    expect(r.status).toBe('sent');
    expect(tlsSink.messages.at(-1)!.raw.toString('latin1')).toBe(raw.toString('latin1'));
  });

  it('refuses to start without a host (configuration error, not a silent capture)', () => {
    expect(() => smtpRelayTransport(relayConfig(25, { host: '' }))).toThrow(/transport\.smtp\.host/);
  });
});
