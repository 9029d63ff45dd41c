import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message the sink accepted. */
export interface SunkMessage {
  mailFrom: string;
  rcptTo: string[];
  /** The DATA bytes exactly as received (dot-unstuffed by smtp-server). */
  raw: Buffer;
  /** The session was encrypted (STARTTLS or implicit TLS). */
  secure: boolean;
  /** The EHLO/HELO name the client announced (R-INFRA-2). */
  clientHostname: string;
  /** The authenticated user, when the client used AUTH. */
  user: string | null;
}

/** Options of {@link startSmtpSink}. */
export interface SmtpSinkOptions {
  /** Simulate a host without TLS: STARTTLS is neither advertised nor accepted. */
  hideSTARTTLS?: boolean;
  /** Advertise SMTPUTF8 (off by default, so the R-EAI-1 "not offered" path is the default). */
  smtpUtf8?: boolean;
  /** Require AUTH (PLAIN/LOGIN, only after STARTTLS) with this user; without it AUTH is disabled. */
  auth?: { user: string; pass: string };
  /** Close a client's connection after this long without a command (smtp-server's socketTimeout). */
  socketTimeoutMs?: number;
  /** Hold each message's final reply this long (a slow or tarpitting receiver). */
  dataReplyDelayMs?: number;
}

/** A real smtp-server on 127.0.0.1, port 0, that records what it receives and can be scripted per recipient. */
export interface SmtpSink {
  port: number;
  /** Accepted messages, in arrival order. */
  messages: SunkMessage[];
  /**
   * Replies for a recipient, consumed one per RCPT TO of that address; when the queue is empty
   * the recipient is accepted. `'250'` accepts; anything else is `'<code> <text>'`, e.g.
   * `script('x@example.net', ['421 4.7.0 try later', '250'])` = defer once, then accept;
   * `script('y@example.net', ['550 5.1.1 <y@example.net>: user unknown'])` = hard bounce once.
   */
  script(rcpt: string, replies: string[]): void;
  /** How many RCPT commands the sink saw per recipient (lower-cased). */
  attempts: Map<string, number>;
  /** Every client command line as received (AUTH credentials redacted by smtp-server), all sessions in order. */
  commands: string[];
  /** How many TCP connections were opened to the sink (pooling checks). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Starts a sink for end-to-end tests (real SMTP, real TLS, no mocks). smtp-server ships a
 * self-signed certificate, so clients must use `rejectUnauthorized: false` for STARTTLS to
 * succeed; a client that validates certificates (MTA-STS enforce) is refused, as it should be.
 *
 * ```ts
 * const sink = await startSmtpSink();           // STARTTLS offered, no AUTH
 * config.transport.smtp.port = sink.port;       // or transport.mx.port with a resolver → 127.0.0.1
 * sink.script('a@example.net', ['421 4.7.0 later', '250']);
 * ... expect(sink.messages[0].secure).toBe(true); await sink.close();
 * ```
 */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const scripts = new Map<string, string[]>();
  const attempts = new Map<string, number>();
  let connections = 0;
  const commands: string[] = [];
  // smtp-server logs each client command as debug('C:', line): the transcript shows wire forms
  // (A-labels, SMTPUTF8 parameters) that the parsed envelope normalises away.
  const record = (entry: { tnx?: string }, _msg: string, line?: string) => {
    if (entry?.tnx === 'command' && typeof line === 'string') commands.push(line);
  };
  const noop = () => {};
  const options: SMTPServerOptions = {
    secure: false,
    hideSTARTTLS: opts.hideSTARTTLS ?? false,
    hideSMTPUTF8: !opts.smtpUtf8,
    authOptional: !opts.auth,
    // hideSTARTTLS alone still accepts the command; a host "without TLS" must refuse it too.
    disabledCommands: [...(opts.auth ? [] : ['AUTH']), ...(opts.hideSTARTTLS ? ['STARTTLS'] : [])],
    allowInsecureAuth: false,
    logger: { debug: record, trace: noop, info: noop, warn: noop, error: noop, fatal: noop } as never,
    size: 50 * 1024 * 1024,
    ...(opts.socketTimeoutMs ? { socketTimeout: opts.socketTimeoutMs } : {}),
    onConnect(_s, cb) {
      connections += 1;
      cb();
    },
    onAuth(auth, _s, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 }));
    },
    onRcptTo(addr, _s, cb) {
      const a = addr.address.toLowerCase();
      attempts.set(a, (attempts.get(a) ?? 0) + 1);
      const next = scripts.get(a)?.shift();
      if (!next || next.startsWith('250')) return cb();
      cb(Object.assign(new Error(next.slice(4)), { responseCode: Number(next.slice(0, 3)) }));
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
          clientHostname: session.hostNameAppearsAs,
          user: (session.user as string | undefined) ?? null,
        });
        if (opts.dataReplyDelayMs) setTimeout(() => cb(), opts.dataReplyDelayMs);
        else cb();
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => { /* client resets during TLS tests are expected */ });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return {
    port, messages, attempts, commands,
    get connections() { return connections; },
    script: (rcpt, replies) => scripts.set(rcpt.toLowerCase(), [...replies]),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
