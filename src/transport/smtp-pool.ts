import SMTPConnection from 'nodemailer/lib/smtp-connection';

/** What one pooled connection needs to know (nodemailer SMTPConnection options we use). */
export interface SmtpPoolOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  rejectUnauthorized: boolean;
  auth?: { user: string; pass: string };
  maxConnections: number;
  timeoutMs: number;
  /** Idle connections are closed (QUIT) after this long, before the server drops them itself. */
  idleMs?: number;
}

/** nodemailer's send info and error fields we read. */
export interface SmtpSendInfo { response?: string; rejected?: string[]; rejectedErrors?: Array<{ responseCode?: number; response?: string }> }
interface SmtpErr extends Error { code?: string; responseCode?: number }

interface Conn {
  c: SMTPConnection;
  dead: boolean;
  idleTimer: NodeJS.Timeout | null;
  /** Settles the operation in progress when the connection fails under it ('error' events). */
  fail: (e: Error) => void;
}

/**
 * A pool of nodemailer SMTPConnections to one smarthost. Each message is handed to
 * `SMTPConnection.send` as one Buffer, so it is dot-stuffed and written in one piece; nodemailer's
 * own pool (Mailer → MailComposer → MimeNode stream → pipeline) cost most of the main thread's
 * time per message (bench/send, issue 3). Retries stay with the worker: a failed attempt is
 * returned, never re-sent here (R-BNC-3).
 */
export function smtpPool(o: SmtpPoolOptions) {
  const idle: Conn[] = [];
  const waiting: Array<(c: Conn | null) => void> = [];
  let open = 0;
  let closed = false;

  function discard(k: Conn): void {
    if (k.dead) return;
    k.dead = true;
    open -= 1;
    if (k.idleTimer) clearTimeout(k.idleTimer);
    const i = idle.indexOf(k);
    if (i >= 0) idle.splice(i, 1);
    try { k.c.quit(); } catch { /* already closing */ }
    k.c.close();
    // A slot is free: the next waiter opens a fresh connection.
    const w = waiting.shift();
    if (w) void (closed ? Promise.resolve(null) : connect()).then(w, () => w(null));
  }

  async function connect(): Promise<Conn> {
    open += 1;
    const c = new SMTPConnection({
      host: o.host, port: o.port, secure: o.secure, requireTLS: !o.secure && o.requireTls, ignoreTLS: false,
      connectionTimeout: o.timeoutMs, greetingTimeout: o.timeoutMs, socketTimeout: o.timeoutMs,
      tls: { rejectUnauthorized: o.rejectUnauthorized },
    } as never);
    const k: Conn = { c, dead: false, idleTimer: null, fail: () => {} };
    // Connection, TLS and timeout failures arrive as 'error' events; a server closing an idle
    // connection arrives as 'end'. Either way the connection is never used again.
    c.on('error', (e: Error) => { const f = k.fail; discard(k); f(e); });
    // On 'end' the operation's own callback (e.g. with a 421 reply, which nodemailer delivers
    // right after emitting 'end') gets a turn first; a promise settles once.
    c.on('end', () => {
      const f = k.fail;
      discard(k);
      setImmediate(() => f(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' })));
    });
    try {
      await new Promise<void>((res, rej) => { k.fail = rej; c.connect((err) => (err ? rej(err) : res())); });
      if (o.auth) await new Promise<void>((res, rej) => { k.fail = rej; c.login(o.auth as never, (err) => (err ? rej(err) : res())); });
    } catch (e) {
      discard(k);
      throw e;
    } finally {
      k.fail = () => {};
    }
    return k;
  }

  async function acquire(): Promise<Conn> {
    if (closed) throw Object.assign(new Error('transport closed'), { code: 'ECONNECTION' });
    const k = idle.pop();
    if (k) {
      if (k.idleTimer) clearTimeout(k.idleTimer);
      k.idleTimer = null;
      return k;
    }
    if (open < o.maxConnections) return connect();
    const got = await new Promise<Conn | null>((res) => waiting.push(res));
    if (!got) throw Object.assign(new Error('could not open a connection'), { code: 'ECONNECTION' });
    return got;
  }

  function release(k: Conn): void {
    if (k.dead) return;
    const w = waiting.shift();
    if (w) return w(k);
    if (closed) return discard(k);
    k.idleTimer = setTimeout(() => discard(k), o.idleMs ?? 30_000);
    k.idleTimer.unref();
    idle.push(k);
  }

  return {
    /** Sends one message; resolves with nodemailer's info or rejects with its error (read by smtp-errors.ts). */
    async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<{ info: SmtpSendInfo; tls: boolean }> {
      const k = await acquire();
      const tls = () => Boolean((k.c as unknown as { secure: boolean }).secure);
      try {
        const info = await new Promise<SmtpSendInfo>((res, rej) => {
          k.fail = rej;
          k.c.send(envelope, raw, (err: unknown, i: unknown) => (err ? rej(err) : res(i as SmtpSendInfo)));
        });
        k.fail = () => {};
        release(k);
        return { info, tls: tls() };
      } catch (err) {
        k.fail = () => {};
        const e = err as SmtpErr;
        // The server refused this message, not the session: reset and keep the connection.
        // A 421 means the server is closing it (RFC 5321 §3.8).
        if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421 && !k.dead) {
          k.c.reset((resetErr) => (resetErr ? discard(k) : release(k)));
        } else {
          discard(k);
        }
        throw Object.assign(e, { tls: tls() });
      }
    },
    /** Closes idle connections now and the others as they finish. */
    close(): void {
      closed = true;
      for (const w of waiting.splice(0)) w(null);
      for (const k of [...idle]) discard(k);
    },
  };
}
