import nodemailer from 'nodemailer';
import type { Config } from '../config/schema.js';
import { resultFromError, resultFromSuccess } from './smtp-errors.js';
import type { DeliveryResult, Transport } from './types.js';

/**
 * Delivers through a smarthost with nodemailer's SMTP pool. STARTTLS is required unless
 * explicitly disabled; `maxMessages` is high because the default 100 halves TLS throughput.
 */
export function smtpRelayTransport(cfg: Config['transport']): Transport {
  const s = cfg.smtp;
  if (!s.host) throw new Error('transport.smtp.host is not set');
  const pool = nodemailer.createTransport({
    pool: true,
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: !s.secure && s.requireTls,
    ignoreTLS: false,
    auth: s.user ? { user: s.user, pass: s.pass } : undefined,
    maxConnections: s.maxConnections,
    maxMessages: 100_000,
    // The worker owns retries so every attempt is an event with its reply (issue 3 item 8).
    maxRequeues: 0,
    connectionTimeout: cfg.timeoutMs,
    greetingTimeout: cfg.timeoutMs,
    socketTimeout: cfg.timeoutMs,
    tls: { rejectUnauthorized: s.rejectUnauthorized },
  } as never);
  const tls = s.secure || s.requireTls;
  return {
    kind: 'smtp',
    async send(req): Promise<DeliveryResult> {
      const t0 = Date.now();
      try {
        const info = await pool.sendMail({ envelope: { from: req.envelope.mailFrom, to: req.envelope.rcptTo }, raw: req.raw });
        if (info.rejected?.length) {
          return resultFromError({ responseCode: 550, response: (info as { rejectedErrors?: Array<{ response?: string }> }).rejectedErrors?.[0]?.response ?? '550 rejected' }, s.host, tls, t0);
        }
        return resultFromSuccess(info.response, s.host, tls, t0);
      } catch (err) {
        return resultFromError(err, s.host, tls, t0);
      }
    },
    async close() {
      pool.close();
    },
  };
}
