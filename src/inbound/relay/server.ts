import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Deps } from '../../app/deps.js';
import type { Core } from '../../core/index.js';
import { plainIp, type RelayPrincipal } from '../../core/relay.js';
import { TegamiError } from '../../domain/errors.js';
import { relayAcceptor, validRecipient } from './accept.js';
import { createRateLimiter } from './rate-limit.js';
import { relayReply, smtpError } from './replies.js';

/** TLS material and the port of one listener. */
export interface RelayListenOptions {
  port: number;
  host: string;
  /** Implicit TLS (465) instead of STARTTLS (587). */
  secure: boolean;
  key: Buffer;
  cert: Buffer;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
const AUTH_FAILURES = 10;
const AUTH_WINDOW_MS = 10 * 60_000;

/** Shared state of the relay listeners of one process: rate buckets, failed-login counters, the acceptor. */
export function relayState(deps: Deps, core: Core) {
  return {
    accept: relayAcceptor(deps, core),
    rate: createRateLimiter(),
    failures: new Map<string, { n: number; since: number }>(),
    live: new Map<string, { ok: boolean; at: number }>(),
  };
}

/**
 * One submission listener (issue 7 item 1): STARTTLS on 587 or implicit TLS on 465; AUTH PLAIN and
 * LOGIN only inside TLS (smtp-server answers 538 5.7.0 before STARTTLS); MAIL FROM without an
 * authenticated credential is 530 5.7.0 — tegami is never an open relay (R-INFRA-7); size and
 * recipient limits, a per-credential rate, and replies with enhanced status codes (RFC 2034).
 */
export async function startRelayListener(deps: Deps, core: Core, state: ReturnType<typeof relayState>, o: RelayListenOptions) {
  const log = deps.log.child({ component: 'relay', port: o.port, secure: o.secure });
  const cfg = deps.config.relay;
  const principals = new WeakMap<SMTPServerSession, RelayPrincipal>();
  const principalOf = (s: SMTPServerSession) => (s.user as RelayPrincipal | undefined) ?? principals.get(s);
  let server: SMTPServer;

  /** Refuses a session whose credential was revoked since it authenticated (cached for 2 s). */
  async function live(p: RelayPrincipal): Promise<boolean> {
    const hit = state.live.get(p.credentialId);
    if (hit && Date.now() - hit.at < 2000) return hit.ok;
    const ok = await core.relay.credentialLive(p.accountId, p.credentialId);
    state.live.set(p.credentialId, { ok, at: Date.now() });
    return ok;
  }

  const options: SMTPServerOptions = {
    name: deps.config.smtp.hostname, banner: 'tegami relay, authenticated submission only', secure: o.secure, key: o.key, cert: o.cert,
    authMethods: ['PLAIN', 'LOGIN'], authOptional: true, allowInsecureAuth: false,
    hideENHANCEDSTATUSCODES: false, hideDSN: true, hideREQUIRETLS: true,
    size: cfg.maxMessageBytes, maxRecipients: cfg.maxRecipients, socketTimeout: 60_000, closeTimeout: 10_000, maxClients: 1000,
    logger: false, disableReverseLookup: true,
    onConnect(session, cb) {
      // Replies that carry their own enhanced code (ours) must not get a second one from smtp-server.
      for (const c of (server as unknown as { connections: Set<{ session: unknown; send: (code: number, data: unknown, ctx?: unknown) => void }> }).connections) {
        if (c.session !== session) continue;
        const send = c.send.bind(c);
        c.send = (code, data, ctx) => send(code, data, typeof data === 'string' && ENHANCED.test(data) ? false : ctx);
      }
      core.relay.principalForIp(session.remoteAddress).then((p) => {
        if (p) principals.set(session, p);
        cb();
      }, (err) => {
        log.error({ err, session: session.id }, 'connect handler failed');
        cb(relayReply(err));
      });
    },
    onAuth(auth, session, cb) {
      const ip = plainIp(session.remoteAddress);
      const f = state.failures.get(ip);
      if (f && Date.now() - f.since < AUTH_WINDOW_MS && f.n >= AUTH_FAILURES) return cb(smtpError(454, '4.7.0', 'too many failed authentications from this address, try again later'));
      core.relay.authenticate(String(auth.username ?? ''), String(auth.password ?? ''), ip).then((p) => {
        if (p) {
          log.info({ session: session.id, account: p.accountId, credential: p.credentialId }, 'relay AUTH ok');
          return cb(null, { user: p as never });
        }
        const cur = f && Date.now() - f.since < AUTH_WINDOW_MS ? f : { n: 0, since: Date.now() };
        cur.n++;
        state.failures.set(ip, cur);
        if (state.failures.size > 100_000) state.failures.clear();
        log.warn({ session: session.id, ip }, 'relay AUTH failed');
        cb(smtpError(535, '5.7.8', 'authentication credentials invalid'));
      }, (err) => cb(relayReply(err)));
    },
    onMailFrom(address, session, cb) {
      const p = principalOf(session);
      if (!p) return cb(relayReply(new TegamiError('E_RELAY_DENIED', 'authentication required: tegami never relays unauthenticated mail (R-INFRA-7)')));
      live(p).then((ok) => {
        if (!ok) return cb(smtpError(535, '5.7.8', 'the SMTP credential was revoked'));
        if (address.address && !validRecipient(address.address)) return cb(smtpError(553, '5.1.7', 'the envelope sender is not a valid address'));
        if (!state.rate.take(p.credentialId, p.ratePerMinute)) return cb(relayReply(new TegamiError('E_RATE_LIMITED', `over ${p.ratePerMinute} messages a minute for this credential, try again later`)));
        cb();
      }, (err) => cb(relayReply(err)));
    },
    onRcptTo(address, session, cb) {
      // Suppressed recipients are accepted here and skipped after DATA, so the client's queue does not retry them (seed 002).
      if (!validRecipient(address.address)) return cb(smtpError(553, '5.1.3', 'the recipient is not a valid address'));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => cb(relayReply(err)));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return cb(smtpError(552, '5.3.4', `message exceeds ${cfg.maxMessageBytes} bytes`));
        const p = principalOf(session);
        if (!p) return cb(relayReply(new TegamiError('E_RELAY_DENIED')));
        const env = { mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcptTo: session.envelope.rcptTo.map((r) => r.address) };
        const facts = { id: session.id, remoteAddress: plainIp(session.remoteAddress), clientHostname: session.clientHostname || '', secure: session.secure };
        state.accept(p, env, Buffer.concat(chunks), facts).then((r) => {
          cb(null, `queued as R${r.relayId}: ${r.queued} queued, ${r.skipped} suppressed${r.warnings.length ? `; warning: ${r.warnings.join('; ')}` : ''}`);
        }, (err) => {
          if (!(err instanceof TegamiError)) log.error({ err, session: session.id, account: p.accountId }, 'relay DATA failed');
          else log.info({ session: session.id, account: p.accountId, code: err.code }, 'relayed message refused');
          cb(relayReply(err));
        });
      });
    },
  };
  server = new SMTPServer(options);
  server.on('error', (err) => log.warn({ err }, 'relay connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  log.info({ port }, 'SMTP relay listening');
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
