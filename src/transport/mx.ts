import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { classifyReply } from '../bounce/classify.js';
import { resultFromError, resultFromSuccess } from './smtp-errors.js';
import { mxAllowed, type PolicyProvider } from './mta-sts.js';
import { tlsRequiredFor } from './tls-policy.js';
import type { DeliveryResult, SendRequest, Transport } from './types.js';

/** mailauth-style resolver: `(name, rrtype) => records`. */
export type Resolver = (name: string, rrtype: string) => Promise<any[]>;

function final(status: 'failed' | 'deferred', reply: string, code: number | null, enhanced: string | null, mx: string | null, t0: number): DeliveryResult {
  return { status, reply, code, enhanced, mx, tls: false, classification: classifyReply(code, enhanced, reply), durationMs: Date.now() - t0 };
}

/** MX hosts of a domain in preference order; an implicit MX when there is none (RFC 5321 §5.1). */
async function mxHosts(resolver: Resolver, domain: string): Promise<string[] | 'null-mx' | 'none'> {
  try {
    const mx = (await resolver(domain, 'MX')) as Array<{ exchange: string; priority: number }>;
    if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) return 'null-mx';
    if (mx.length) return mx.sort((a, b) => a.priority - b.priority).map((m) => m.exchange.replace(/\.$/, '').toLowerCase());
  } catch (e) {
    if (!['ENOTFOUND', 'ENODATA'].includes((e as { code?: string }).code ?? '')) throw e;
  }
  return 'none';
}

/**
 * Direct delivery to the recipient's MX (issue 3 item 7): STARTTLS required toward Gmail, Yahoo,
 * Outlook.com and iCloud (R-INFRA-3), MTA-STS enforce honoured (R-INFRA-4), SMTPUTF8 only when
 * offered (R-EAI-1), EHLO name from config (R-INFRA-2).
 */
export function mxTransport(cfg: Config['transport'], opts: { resolver: Resolver; policy: PolicyProvider; log: Logger }): Transport {
  const ehlo = cfg.mx.ehloName || undefined;
  async function attempt(host: string, req: SendRequest, needTls: boolean, validCert: boolean, t0: number): Promise<DeliveryResult> {
    let ip = host;
    try {
      ip = ((await opts.resolver(host, 'A')) as string[])[0] ?? host;
    } catch { /* fall back to the name */ }
    const conn = new SMTPConnection({
      host: ip, port: cfg.mx.port, name: ehlo, requireTLS: needTls, opportunisticTLS: !needTls,
      connectionTimeout: cfg.timeoutMs, greetingTimeout: cfg.timeoutMs, socketTimeout: cfg.timeoutMs,
      tls: { servername: host, rejectUnauthorized: validCert },
    } as never);
    // Connection, TLS and timeout failures arrive as 'error' events, not through the callback.
    let failed: (e: Error) => void = () => {};
    conn.on('error', (e: Error) => failed(e));
    try {
      await new Promise<void>((res, rej) => {
        failed = rej;
        conn.connect((err?: Error) => (err ? rej(err) : res()));
      });
      const secure = (conn as unknown as { secure: boolean }).secure;
      const exts = ((conn as unknown as { _supportedExtensions: string[] })._supportedExtensions) ?? [];
      if (req.envelope.smtpUtf8 && !exts.includes('SMTPUTF8')) {
        return { ...final('failed', '553 5.6.7 next hop does not offer SMTPUTF8 (R-EAI-1)', 553, '5.6.7', host, t0), tls: secure };
      }
      const info = await new Promise<{ response?: string; rejected?: string[]; rejectedErrors?: Array<{ responseCode?: number; response?: string }> }>((res, rej) => {
        failed = rej;
        conn.send({ from: req.envelope.mailFrom, to: req.envelope.rcptTo }, req.raw, (err: any, i: any) => (err ? rej(err) : res(i)));
      });
      if (info.rejected?.length) return resultFromError(info.rejectedErrors?.[0] ?? { responseCode: 550, response: '550 rejected' }, host, secure, t0);
      return resultFromSuccess(info.response, host, secure, t0);
    } catch (err) {
      return resultFromError(err, host, (conn as unknown as { secure: boolean }).secure, t0);
    } finally {
      try { conn.quit(); } catch { /* closing */ }
      conn.close();
    }
  }

  return {
    kind: 'mx',
    async send(req): Promise<DeliveryResult> {
      const t0 = Date.now();
      const domain = req.envelope.rcptTo[0].slice(req.envelope.rcptTo[0].lastIndexOf('@') + 1).toLowerCase();
      let hosts: string[] | 'null-mx' | 'none';
      try {
        hosts = await mxHosts(opts.resolver, domain);
      } catch (e) {
        return final('deferred', `DNS error for ${domain}: ${(e as Error).message}`, null, '4.4.3', null, t0);
      }
      if (hosts === 'null-mx') return final('failed', `556 5.1.10 ${domain} accepts no mail (null MX)`, 556, '5.1.10', null, t0);
      const list = hosts === 'none' ? [domain] : hosts;
      const policy = await opts.policy(domain).catch(() => ({ mode: 'none' as const }));
      let last: DeliveryResult | null = null;
      for (const host of list) {
        const p = mxAllowed(host, policy);
        if (p.testingMismatch) opts.log.warn({ domain, host }, 'MTA-STS testing: MX does not match the policy');
        if (!p.allowed) {
          last = final('deferred', `MX ${host} is not allowed by the MTA-STS policy of ${domain} (R-INFRA-4)`, null, '4.7.5', host, t0);
          continue;
        }
        last = await attempt(host, req, p.enforce || tlsRequiredFor(host), p.enforce, t0);
        // Try the next MX only for connection-level failures; an SMTP answer is final for this attempt.
        if (last.code !== null || last.status === 'sent') return last;
      }
      return last ?? final('deferred', `no usable MX for ${domain}`, null, '4.4.4', null, t0);
    },
    async close() {},
  };
}
