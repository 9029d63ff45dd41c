import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message the sink accepted. */
export interface SunkMessage {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  /** The session was encrypted (STARTTLS or implicit TLS). */
  secure: boolean;
}

/** A real smtp-server on port 0 that records what it receives and can be scripted per recipient. */
export interface SmtpSink {
  port: number;
  messages: SunkMessage[];
  /** Replies for a recipient, consumed one per RCPT: e.g. ['421 4.7.0 try later', '250'] ('250' = accept). */
  script(rcpt: string, replies: string[]): void;
  /** How many RCPT commands the sink saw per recipient. */
  attempts: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Starts the sink. smtp-server ships a self-signed certificate, so STARTTLS works with
 * `rejectUnauthorized: false` on the client. `hideSTARTTLS` simulates a host without TLS.
 */
export async function startSmtpSink(opts: { hideSTARTTLS?: boolean; smtpUtf8?: boolean; auth?: { user: string; pass: string } } = {}): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const scripts = new Map<string, string[]>();
  const attempts = new Map<string, number>();
  const options: SMTPServerOptions = {
    secure: false,
    hideSTARTTLS: opts.hideSTARTTLS ?? false,
    hideSMTPUTF8: !opts.smtpUtf8,
    authOptional: !opts.auth,
    // hideSTARTTLS alone still accepts the command; a host "without TLS" must refuse it too.
    disabledCommands: [...(opts.auth ? [] : ['AUTH']), ...(opts.hideSTARTTLS ? ['STARTTLS'] : [])],
    allowInsecureAuth: false,
    logger: false,
    size: 50 * 1024 * 1024,
    onAuth(auth, _s, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(new Error('535 5.7.8 authentication failed'));
    },
    onRcptTo(addr, _s, cb) {
      const a = addr.address.toLowerCase();
      attempts.set(a, (attempts.get(a) ?? 0) + 1);
      const queue = scripts.get(a);
      const next = queue?.shift();
      if (!next || next.startsWith('250')) return cb();
      const code = Number(next.slice(0, 3));
      const err = new Error(next.slice(4)) as Error & { responseCode: number };
      err.responseCode = code;
      cb(err);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
        });
        cb();
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return {
    port, messages, attempts,
    script: (rcpt, replies) => scripts.set(rcpt.toLowerCase(), [...replies]),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
