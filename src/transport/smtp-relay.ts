import nodemailer from 'nodemailer';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { resultFromError, resultFromSuccess } from './smtp-errors.js';
import type { DeliveryResult, Transport } from './types.js';

const noop = () => {};
const CLOSED_BEFORE_SEND = /closed by the server before message/;

/**
 * nodemailer drops the server's reply when a REUSED pooled connection is closed before the
 * message went out (typically `421 4.7.x` and close) and reports only "Reached maximum number of
 * retries". Its pool logs the reason with the message id, so a logger keeps it for the result.
 */
function closeReasons() {
  const reasons = new Map<string, string>();
  const logger = {
    info(entry: { tnx?: string; messageId?: string } | undefined, msg: string, ...args: unknown[]) {
      if (entry?.tnx === 'pool' && entry.messageId && CLOSED_BEFORE_SEND.test(msg)) reasons.set(entry.messageId, String(args[2] ?? ''));
    },
    trace: noop, debug: noop, warn: noop, error: noop, fatal: noop,
  };
  return { logger, take(id: string) { const r = reasons.get(id); reasons.delete(id); return r; } };
}

/**
 * Delivers through a smarthost with nodemailer's SMTP pool. STARTTLS is required unless
 * explicitly disabled; `maxMessages` is high because the default 100 halves TLS throughput.
 */
export function smtpRelayTransport(cfg: Config['transport']): Transport {
  const s = cfg.smtp;
  if (!s.host) throw new Error('transport.smtp.host is not set');
  const reasons = closeReasons();
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
    // The worker owns retries and backoff, so every attempt is an event with its reply (issue 3
    // item 8) and a 421 is never retried at once on a new connection (R-BNC-3).
    maxRequeues: 0,
    connectionTimeout: cfg.timeoutMs,
    greetingTimeout: cfg.timeoutMs,
    socketTimeout: cfg.timeoutMs,
    tls: { rejectUnauthorized: s.rejectUnauthorized },
    logger: reasons.logger,
  } as never);
  // nodemailer does not expose the pooled connection's TLS state: required TLS is the guarantee.
  const tls = s.secure || s.requireTls;
  let seq = 0;
  return {
    kind: 'smtp',
    async send(req): Promise<DeliveryResult> {
      const t0 = Date.now();
      // Only a correlation key for the pool's log; the raw message keeps its own Message-ID.
      const id = `<relay-${++seq}.${randomBytes(4).toString('hex')}@tegami.invalid>`;
      try {
        const info = await pool.sendMail({ envelope: { from: req.envelope.mailFrom, to: req.envelope.rcptTo }, raw: req.raw, messageId: id });
        if (info.rejected?.length) {
          return resultFromError({ responseCode: 550, response: (info as { rejectedErrors?: Array<{ response?: string }> }).rejectedErrors?.[0]?.response ?? '550 rejected' }, s.host, tls, t0);
        }
        return resultFromSuccess(info.response, s.host, tls, t0);
      } catch (err) {
        const reason = reasons.take(id);
        const m = reason ? /\b([45]\d\d)[ -](.*)$/s.exec(reason) : null;
        if (m) return resultFromError({ responseCode: Number(m[1]), response: `${m[1]} ${m[2]}`.trim() }, s.host, tls, t0);
        return resultFromError(reason ? { code: 'ECONNECTION', message: reason } : err, s.host, tls, t0);
      } finally {
        reasons.take(id);
      }
    },
    async close() {
      pool.close();
    },
  };
}
