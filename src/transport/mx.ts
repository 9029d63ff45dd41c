import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { classifyReply } from '../bounce/classify.js';
import { toALabel } from '../domain/address.js';
import { resultFromError, resultFromSuccess } from './smtp-errors.js';
import { mxAllowed, type PolicyProvider } from './mta-sts.js';
import { tlsRequiredFor } from './tls-policy.js';
import type { DeliveryResult, SendRequest, Transport } from './types.js';

/** mailauth-style resolver: `(name, rrtype) => records` (MX: `{ exchange, priority }[]`, A/AAAA/TXT as node:dns). */
export type Resolver = (name: string, rrtype: string) => Promise<any[]>;

const NO_RECORDS = ['ENOTFOUND', 'ENODATA'];

function final(status: 'failed' | 'deferred', reply: string, code: number | null, enhanced: string | null, mx: string | null, t0: number): DeliveryResult {
  return { status, reply, code, enhanced, mx, tls: false, classification: classifyReply(code, enhanced, reply), durationMs: Date.now() - t0 };
}

/** Records of one type, or [] when the name has none; other DNS errors propagate (they are transient). */
async function lookup(resolver: Resolver, name: string, type: string): Promise<any[]> {
  try {
    return (await resolver(name, type)) ?? [];
  } catch (e) {
    if (NO_RECORDS.includes((e as { code?: string }).code ?? '')) return [];
    throw e;
  }
}

/** MX hosts of a domain in preference order; the implicit MX when there is none (RFC 5321 §5.1). */
async function mxHosts(resolver: Resolver, domain: string): Promise<string[] | 'null-mx' | 'none'> {
  const mx = (await lookup(resolver, domain, 'MX')) as Array<{ exchange: string; priority: number }>;
  if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) return 'null-mx';
  if (mx.length) return [...mx].sort((a, b) => a.priority - b.priority).map((m) => m.exchange.replace(/\.$/, '').toLowerCase());
  const addr = [...(await lookup(resolver, domain, 'A')), ...(await lookup(resolver, domain, 'AAAA'))];
  return addr.length ? [domain] : 'none';
}

/** Envelope addresses with IDN domains as A-labels; SMTPUTF8 is then needed only for a UTF-8 local part (R-EAI-1). */
function asciiDomains(addrs: string[]): { addrs: string[]; utf8Local: boolean } {
  let utf8Local = false;
  const out = addrs.map((a) => {
    const at = a.lastIndexOf('@');
    if (at < 0) return a;
    if (/[^\x00-\x7f]/.test(a.slice(0, at))) utf8Local = true;
    return `${a.slice(0, at)}@${toALabel(a.slice(at + 1)) ?? a.slice(at + 1)}`;
  });
  return { addrs: out, utf8Local };
}

/**
 * Direct delivery to the recipient's MX (issue 3 item 7): STARTTLS required toward Gmail, Yahoo,
 * Outlook.com and iCloud (R-INFRA-3), MTA-STS enforce honoured (R-INFRA-4), SMTPUTF8 only when
 * offered (R-EAI-1), EHLO name from config (R-INFRA-2). All recipients must share one domain.
 */
export function mxTransport(cfg: Config['transport'], opts: { resolver: Resolver; policy: PolicyProvider; log: Logger }): Transport {
  const ehlo = cfg.mx.ehloName || undefined;
  async function attempt(host: string, req: SendRequest, needTls: boolean, validCert: boolean, t0: number): Promise<DeliveryResult> {
    // Addresses come from the injected resolver too, so nothing reaches real DNS behind its back.
    let ip: string | undefined;
    try {
      ip = (await lookup(opts.resolver, host, 'A'))[0] ?? (await lookup(opts.resolver, host, 'AAAA'))[0];
    } catch (e) {
      return final('deferred', `DNS error for MX ${host}: ${(e as Error).message}`, null, '4.4.3', host, t0);
    }
    if (!ip) return final('deferred', `MX ${host} has no A or AAAA record`, null, '4.4.4', host, t0);
    const conn = new SMTPConnection({
      host: ip, port: cfg.mx.port, name: ehlo, requireTLS: needTls, opportunisticTLS: !needTls,
      connectionTimeout: cfg.timeoutMs, greetingTimeout: cfg.timeoutMs, socketTimeout: cfg.timeoutMs,
      // servername: the certificate is checked against the MX name, not the address (RFC 8461 §4.1).
      tls: { servername: host, rejectUnauthorized: validCert },
    } as never);
    // Connection, TLS and timeout failures arrive as 'error' events, not through the callback.
    let failed: (e: Error) => void = () => {};
    conn.on('error', (e: Error) => failed(e));
    const secure = () => (conn as unknown as { secure: boolean }).secure;
    try {
      await new Promise<void>((res, rej) => {
        failed = rej;
        conn.connect((err?: Error) => (err ? rej(err) : res()));
      });
      const exts = ((conn as unknown as { _supportedExtensions: string[] })._supportedExtensions) ?? [];
      const from = asciiDomains([req.envelope.mailFrom]);
      const to = asciiDomains(req.envelope.rcptTo);
      const utf8 = req.envelope.smtpUtf8 || from.utf8Local || to.utf8Local;
      if (utf8 && !exts.includes('SMTPUTF8')) {
        // Fails this message only; never a reason to suppress the recipient (R-EAI-1, class 'content').
        return { ...final('failed', '553 5.6.7 next hop does not offer SMTPUTF8 (R-EAI-1)', 553, '5.6.7', host, t0), tls: secure() };
      }
      const info = await new Promise<{ response?: string; rejected?: string[]; rejectedErrors?: Array<{ responseCode?: number; response?: string }> }>((res, rej) => {
        failed = rej;
        conn.send({ from: from.addrs[0], to: to.addrs }, req.raw, (err: any, i: any) => (err ? rej(err) : res(i)));
      });
      if (info.rejected?.length) return resultFromError(info.rejectedErrors?.[0] ?? { responseCode: 550, response: '550 rejected' }, host, secure(), t0);
      // R-INFRA-3 asks for an alert whenever delivery falls back to plaintext.
      if (!secure()) opts.log.warn({ account: req.accountId, message: req.messageRowId, mx: host }, 'delivered without TLS');
      return resultFromSuccess(info.response, host, secure(), t0);
    } catch (err) {
      return resultFromError(err, host, secure(), t0);
    } finally {
      try { conn.quit(); } catch { /* closing */ }
      conn.close();
    }
  }

  return {
    kind: 'mx',
    async send(req): Promise<DeliveryResult> {
      const t0 = Date.now();
      const rcpt = req.envelope.rcptTo[0] ?? '';
      const raw = rcpt.slice(rcpt.lastIndexOf('@') + 1);
      const domain = toALabel(raw);
      if (!domain) return final('failed', `553 5.1.3 recipient domain "${raw}" is not a valid host name`, 553, '5.1.3', null, t0);
      let hosts: string[] | 'null-mx' | 'none';
      try {
        hosts = await mxHosts(opts.resolver, domain);
      } catch (e) {
        return final('deferred', `DNS error for ${domain}: ${(e as Error).message}`, null, '4.4.3', null, t0);
      }
      if (hosts === 'null-mx') return final('failed', `556 5.1.10 ${domain} accepts no mail (null MX)`, 556, '5.1.10', null, t0);
      if (hosts === 'none') return final('failed', `550 5.1.2 ${domain} has no MX, A or AAAA record`, 550, '5.1.2', null, t0);
      const policy = await opts.policy(domain).catch(() => ({ mode: 'none' as const }));
      let last: DeliveryResult | null = null;
      for (const host of hosts) {
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
