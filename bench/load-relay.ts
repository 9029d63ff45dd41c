/**
 * bench/load-relay (issue 11 item 3): 200 concurrent SMTP submission sessions (STARTTLS, AUTH,
 * then messages back to back on each session for S seconds) against the tegami relay
 * (`tegami serve --roles smtp` in a child process, SQLite file or --pg), reporting errors (target
 * 0), lost writes (a 250 whose message row is not in the database afterwards; target 0) and
 * per-message latency percentiles. Baseline in the same run: a bare smtp-server with the same
 * certificate and TLS/AUTH sequence that discards messages (bench/load-relay-bare.ts).
 * Run: npx tsx bench/load-relay.ts [--sessions 200] [--seconds 30] [--pg]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { openDb } from '../src/store/db.js';
import { arg, dropPgSchema, printTable, writeResult } from './lib.js';

const SESSIONS = arg('sessions', 200);
const SECONDS = arg('seconds', 30);
const USE_PG = process.argv.includes('--pg');
const PG_URL = process.env.TEGAMI_BENCH_PG_URL ?? process.env.TEGAMI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROOT = new URL('..', import.meta.url).pathname;
const BODY = 'Your order 12345 has shipped.\n'.repeat(40);

/** Starts a child and resolves with it once `ready(line)` matches a stdout line. */
function child(args: string[], env: Record<string, string>, ready: (line: string) => string | null): Promise<{ proc: ChildProcess; value: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) { const v = ready(l); if (v !== null) resolve({ proc, value: v }); }
    });
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : 0);

/** SESSIONS sessions in parallel, each sending messages one after another until the time is up. */
async function drive(port: number, auth: { user: string; pass: string }, label: string) {
  const lat: number[] = [];
  let ok = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  const until = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: SESSIONS }, async (_, s) => {
    // One pooled connection per session: STARTTLS + AUTH once, then messages back to back.
    const tr = nodemailer.createTransport({
      pool: true, maxConnections: 1, maxMessages: Infinity, host: '127.0.0.1', port, secure: false, requireTLS: true,
      tls: { rejectUnauthorized: false }, auth, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000,
    } as never);
    let i = 0;
    while (Date.now() < until) {
      const start = performance.now();
      try {
        await tr.sendMail({ from: 'Shop <orders@bench.example>', to: `c${s}-${i}@rcpt.example`, subject: `Order ${s}-${i}`, text: BODY });
        lat.push(performance.now() - start);
        ok++;
      } catch (err) {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(`${label}: ${(err as Error).message}`);
      }
      i++;
    }
    tr.close();
  }));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { ok, errors, msgsPerSec: ok / secs, p50: r(pct(lat, 0.5)), p90: r(pct(lat, 0.9)), p99: r(pct(lat, 0.99)), max: r(lat[lat.length - 1] ?? 0), firstErrors };
}

/** Runs the relay load test and its baseline; returns the figures (used by bench/run-all). */
export async function runLoadRelay() {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-relay-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const schema = `bench_relay_${randomBytes(4).toString('hex')}`;
  if (USE_PG) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  const dbUrl = USE_PG ? `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}` : `sqlite:${join(dir, 'tegami.db')}`;
  const masterKey = Buffer.alloc(32, 11);
  const store = openDb({ url: USE_PG ? PG_URL : dbUrl, schema: USE_PG ? schema : undefined, poolSize: 2 });
  const config = defaultConfig();
  config.http.publicUrl = 'https://mail.bench.example';
  const app = await createApp(config, [], { store, log: pino({ level: 'warn' }), masterKey, listen: false, startLoops: false });
  const acc = await app.core.accounts.createAccount('bench');
  await app.core.domains.addDomain(acc.id, 'bench.example');
  const cred = await app.core.relay.createCredential(acc.id, { name: 'bench' });

  const bare = await child([join(ROOT, 'bench/load-relay-bare.ts'), certFile, keyFile], {}, (l) => (/^\d+$/.test(l) ? l : null));
  const b = await drive(Number(bare.value), { user: 'bench', pass: 'bench' }, 'bare');
  bare.proc.kill('SIGTERM');

  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); });
  });
  const relay = await child(['src/cli/main.ts', 'serve', '--roles', 'smtp'], {
    TEGAMI_CONFIG: '/dev/null', TEGAMI_LOG_LEVEL: 'info', TEGAMI_DATABASE_URL: dbUrl, TEGAMI_MASTER_KEY: masterKey.toString('base64'),
    TEGAMI_HTTP_PUBLIC_URL: 'https://mail.bench.example', TEGAMI_SMTP_SUBMISSION_PORT: String(port),
    TEGAMI_RELAY_TLS_CERT_FILE: certFile, TEGAMI_RELAY_TLS_KEY_FILE: keyFile, TEGAMI_RELAY_RATE_PER_MINUTE: '100000000',
  }, (l) => (l.includes('"tegami started"') ? 'up' : null));
  const t = await drive(port, { user: cred.username, pass: cred.password }, 'tegami');
  relay.proc.kill('SIGTERM');
  await new Promise((r) => relay.proc.once('exit', r));
  const rows = Number((await store.db.selectFrom('messages').select((e) => e.fn.countAll().as('n')).where('account_id', '=', acc.id).executeTakeFirstOrThrow()).n);
  await app.stop();
  await store.close();
  if (USE_PG) await dropPgSchema(PG_URL, schema);
  rmSync(dir, { recursive: true, force: true });
  return {
    sessions: SESSIONS, seconds: SECONDS, database: USE_PG ? 'postgres' : 'sqlite', tegami: t, bare: b,
    ratio: t.msgsPerSec / b.msgsPerSec, rowsCommitted: rows, lostWrites: Math.max(0, t.ok - rows), loadavg: loadavg(),
  };
}

if (process.argv[1]?.endsWith('load-relay.ts')) {
  const r = await runLoadRelay();
  const row = (name: string, x: typeof r.tegami) => ({
    run: name, sessions: SESSIONS, seconds: SECONDS, 'accepted (250)': x.ok, 'msgs/s': Math.round(x.msgsPerSec), errors: x.errors,
    'p50 ms': x.p50, 'p90 ms': x.p90, 'p99 ms': x.p99, 'max ms': x.max,
  });
  printTable([row(`tegami relay (${r.database}, queued durably before 250)`, r.tegami), row('baseline: bare smtp-server, same TLS + AUTH', r.bare)]);
  for (const e of [...r.tegami.firstErrors, ...r.bare.firstErrors]) console.log(`  error: ${e}`);
  console.log(`errors ${r.tegami.errors} (target 0); 250 replies ${r.tegami.ok}, message rows ${r.rowsCommitted}, lost writes ${r.lostWrites} (target 0); tegami/bare = ${r.ratio.toFixed(2)}; load average ${r.loadavg.map((l) => l.toFixed(1)).join(' ')}`);
  writeResult(`load-relay${USE_PG ? '-pg' : ''}`, r);
}
