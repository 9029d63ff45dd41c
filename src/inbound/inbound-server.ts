import { SMTPServer } from 'smtp-server';
import type { Deps } from '../app/deps.js';
import type { Core } from '../core/index.js';
import { unsubscribeCore } from '../core/unsubscribe.js';
import { parseMailtoLocalPart, tokenKeys, verifyUnsubscribeToken, type UnsubscribePayload } from '../domain/unsubscribe-token.js';
import { domainsRepo } from '../store/domains-repo.js';
import { messagesRepo } from '../store/messages-repo.js';
import { replyFor, smtpError } from './replies.js';

/** What a handler learns about the SMTP session that delivered a message. */
export interface InboundSession {
  remoteAddress: string;
  /** The envelope sender; null for the null reverse-path `<>` of bounces. */
  mailFrom: string | null;
}

/** A recipient handler: claims an address at RCPT and acts on the message at the end of DATA. */
export interface RecipientHandler {
  name: string;
  /** Returns a bound action when this handler owns the address, else null. */
  match(local: string, domain: string): Promise<((raw: Buffer, session: InboundSession) => Promise<void>) | null>;
}

/** True when the domain is one tegami receives for: a return-path domain or its own host name. */
export async function ourDomain(deps: Deps, domain: string): Promise<boolean> {
  if (domain === deps.config.smtp.hostname.toLowerCase()) return true;
  return (await domainsRepo(deps.store).byReturnPath(domain)).length > 0;
}

/**
 * `u+<kid>.<id36>.<sig>@…` (the short form tegami writes, createMailtoLocalPart) or the older
 * `u+TOKEN@…` with the full URL token (still honoured, R-UNSUB-11): mailto unsubscribes feed the
 * same ledger as one-click (R-UNSUB-2).
 */
export function mailtoUnsubscribeHandler(deps: Deps, core: Core): RecipientHandler {
  const unsub = unsubscribeCore(deps, core.suppressions);
  const keys = tokenKeys(deps.masterKey);
  const messages = messagesRepo(deps.store);
  /** The short form names a subscription message; its row gives the payload the URL token carries. */
  async function payloadOf(local: string): Promise<UnsubscribePayload | null> {
    const id = parseMailtoLocalPart(keys, local);
    if (id === null) return verifyUnsubscribeToken(keys, local.slice(2));
    const m = await messages.getAny(id);
    if (!m || m.category !== 'subscription') return null;
    return { accountId: m.account_id, listId: m.list_id ?? '', subject: m.contact_id ? 'c' : 'm', subjectId: Number(m.contact_id ?? m.id), issuedAt: 0 };
  }
  return {
    name: 'mailto-unsubscribe',
    async match(local, domain) {
      if (!/^u\+/i.test(local) || !(await ourDomain(deps, domain))) return null;
      const p = await payloadOf(local);
      if (!p || !(await unsub.resolvePayload(p, false))) return null;
      return async (_raw, session) => {
        // names: false — nothing shows a page here, so the account and lists are not read again.
        await unsub.unsubscribePayload(p, { source: 'mailto', ip: session.remoteAddress, names: false });
      };
    },
  };
}

/**
 * The inbound SMTP server (issue 4 item 5; the Bounces issue adds handlers): accepts only
 * addresses a handler claims, answers 550 5.1.1 to every other recipient and so never relays
 * (R-INFRA-7). No AUTH; size limit and timeouts; every handler error ends with a reply.
 */
export async function startInboundServer(deps: Deps, handlers: RecipientHandler[], opts: { port: number; host: string }) {
  const log = deps.log.child({ component: 'inbound' });
  type Bound = (raw: Buffer, s: InboundSession) => Promise<void>;
  const pending = new WeakMap<object, Bound[]>();
  const server = new SMTPServer({
    name: deps.config.smtp.hostname, banner: 'tegami inbound', logger: false, authOptional: true, disabledCommands: ['AUTH'],
    size: deps.config.smtp.maxMessageBytes, socketTimeout: 60_000, closeTimeout: 10_000, maxClients: 200,
    async onRcptTo(addr, session, cb) {
      try {
        const a = addr.address;
        const at = a.lastIndexOf('@');
        const [local, domain] = [a.slice(0, at), a.slice(at + 1).toLowerCase()];
        for (const h of handlers) {
          const bound = await h.match(local, domain);
          if (bound) {
            pending.set(session, [...(pending.get(session) ?? []), bound]);
            return cb();
          }
        }
        cb(smtpError(550, '5.1.1', 'no such recipient here'));
      } catch (err) {
        log.error({ err, session: session.id }, 'rcpt handler failed');
        cb(replyFor(err));
      }
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => cb(replyFor(err, 'data')));
      stream.on('end', async () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return cb(smtpError(552, '5.3.4', 'message too large'));
        try {
          // Committed before 250: a crash after the reply loses nothing.
          for (const act of pending.get(session) ?? []) await act(Buffer.concat(chunks), { remoteAddress: session.remoteAddress, mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address || null : null });
          pending.delete(session);
          cb();
        } catch (err) {
          log.error({ err, session: session.id }, 'data handler failed');
          cb(replyFor(err, 'data'));
        }
      });
    },
    onClose(session) { pending.delete(session); },
  });
  server.on('error', (err) => log.error({ err }, 'inbound server error'));
  await new Promise<void>((r) => server.listen(opts.port, opts.host, () => r()));
  const port = (server.server.address() as { port: number }).port;
  log.info({ port }, 'inbound SMTP listening');
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
