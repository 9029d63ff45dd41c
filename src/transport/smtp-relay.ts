import type { Config } from '../config/schema.js';
import { resultFromError, resultFromSuccess } from './smtp-errors.js';
import { smtpPool } from './smtp-pool.js';
import type { DeliveryResult, Transport } from './types.js';

/**
 * Delivers through a smarthost over pooled nodemailer SMTPConnections (src/transport/smtp-pool.ts).
 * STARTTLS is required unless explicitly disabled. The worker owns retries and backoff, so every
 * attempt is an event with its reply (issue 3 item 8) and a 421 is never retried at once on a new
 * connection (R-BNC-3).
 */
export function smtpRelayTransport(cfg: Config['transport']): Transport {
  const s = cfg.smtp;
  if (!s.host) throw new Error('transport.smtp.host is not set');
  const pool = smtpPool({
    host: s.host, port: s.port, secure: s.secure, requireTls: s.requireTls, rejectUnauthorized: s.rejectUnauthorized,
    auth: s.user ? { user: s.user, pass: s.pass ?? '' } : undefined, maxConnections: s.maxConnections, timeoutMs: cfg.timeoutMs,
  });
  // Required TLS is the guarantee when a failure leaves no connection to ask.
  const tlsRequired = s.secure || s.requireTls;
  return {
    kind: 'smtp',
    async send(req): Promise<DeliveryResult> {
      const t0 = Date.now();
      try {
        const { info, tls } = await pool.send({ from: req.envelope.mailFrom, to: req.envelope.rcptTo }, req.raw);
        if (info.rejected?.length) return resultFromError(info.rejectedErrors?.[0] ?? { responseCode: 550, response: '550 rejected' }, s.host, tls, t0);
        return resultFromSuccess(info.response, s.host, tls, t0);
      } catch (err) {
        return resultFromError(err, s.host, (err as { tls?: boolean }).tls ?? tlsRequired, t0);
      }
    },
    async close() {
      pool.close();
    },
  };
}
