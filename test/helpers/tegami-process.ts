import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A `tegami` CLI process started by a test (roles and fault tests, issue 11). */
export interface TegamiProcess {
  child: ChildProcess;
  pid: number;
  /** The HTTP address when the process has the api role. */
  url?: string;
  /** The sending owner id (`host:pid:id`) when the process has the worker role. */
  owner?: string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines (parsed JSON) the process wrote at warn level or above. */
  warnings: Array<Record<string, unknown>>;
}

/** The TEGAMI_DATABASE_URL a child process uses for a test database (a PG schema via search_path). */
export function childDatabaseUrl(db: { url: string; schema?: string }, extra = ''): string {
  if (!db.schema) return db.url;
  const sep = db.url.includes('?') ? '&' : '?';
  return `${db.url}${sep}options=-c%20search_path%3D${db.schema}${extra}`;
}

/** Environment for a child tegami: no config file, given database and master key, JSON info logs. */
export function childEnv(dbUrl: string, masterKey: Buffer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEGAMI_CONFIG: '/dev/null', TEGAMI_LOG_LEVEL: 'info', TEGAMI_HTTP_PUBLIC_URL: 'https://mail.tegami.test', TEGAMI_HTTP_PORT: '0',
    TEGAMI_DATABASE_URL: dbUrl, TEGAMI_MASTER_KEY: masterKey.toString('base64'), ...extra,
  };
}

/** Environment that points the smtp transport at a loopback sink without TLS (fast). */
export function sinkTransportEnv(port: number): Record<string, string> {
  return {
    TEGAMI_TRANSPORT_KIND: 'smtp', TEGAMI_TRANSPORT_SMTP_HOST: '127.0.0.1', TEGAMI_TRANSPORT_SMTP_PORT: String(port),
    TEGAMI_TRANSPORT_SMTP_REQUIRE_TLS: 'false',
  };
}

/**
 * Starts `tegami <args>` (e.g. `['worker']`, `['serve', '--roles', 'api,smtp']`) and resolves once
 * it logged "tegami started" (after migrations, with its HTTP address and sending owner).
 */
export async function startTegami(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<TegamiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const warnings: Array<Record<string, unknown>> = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { if (!/ExperimentalWarning|--trace-warnings/.test(d)) process.stderr.write(`[tegami ${child.pid}] ${d}`); });
  const started = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        let j: Record<string, unknown>;
        try { j = JSON.parse(line); } catch { continue; }
        if (j.msg === 'tegami started') resolve(j);
        if (typeof j.level === 'number' && j.level >= 40) warnings.push(j);
      }
    });
    void exited.then((e) => reject(new Error(`tegami ${args.join(' ')} exited before starting (${e.code ?? e.signal})`)));
    setTimeout(() => reject(new Error(`tegami ${args.join(' ')} did not start within ${timeoutMs} ms`)), timeoutMs).unref();
  });
  const info = await started.catch((err) => { child.kill('SIGKILL'); throw err; });
  return { child, pid: child.pid!, url: info.url as string | undefined, owner: info.owner as string | undefined, exited, warnings };
}

/** SIGTERM (graceful) and the exit code. */
export async function terminate(p: TegamiProcess): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  return (await p.exited).code;
}

/** kill -9 and wait until the process is gone. */
export async function kill9(p: TegamiProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then returns the last value). */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!v && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    v = await fn();
  }
  return v;
}
