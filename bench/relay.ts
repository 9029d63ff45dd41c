/**
 * bench/relay (issue 7): Postfix's smtp-source -> tegami relay -> Postfix's smtp-sink, against
 * smtp-source -> Postfix + OpenDKIM -> smtp-sink, the same message file in one run. Both sides
 * queue durably before 250, sign, and relay to the sink; the clock runs from the first
 * connection until the sink has every message. tegami runs as two processes (`serve --roles
 * smtp` and `worker`) on one SQLite file; Postfix as its usual set of daemons.
 * Run: npx tsx bench/relay.ts [--messages 5000] [--sessions 10] [--size 4000] [--single]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { arg, printTable, writeResult } from './lib.js';
import { ensurePostfixPackages, startPostfixRelay } from './relay-postfix.js';

const N = arg('messages', 5000);
const SESSIONS = arg('sessions', 10);
const SIZE = arg('size', 4000);
const WARM = Math.max(20, Math.min(200, Math.floor(N / 10)));
const SINGLE = process.argv.includes('--single');
const DOMAIN = 'bench.example';
const MASTER_KEY = Buffer.alloc(32, 9);

const freePort = async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
};
const listening = (port: number) => new Promise<boolean>((res) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
  s.on('error', () => res(false));
});
async function waitPort(port: number, what: string, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await listening(port))) {
    if (Date.now() > end) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The message both sides relay: a subscription newsletter with the filter header tegami matches. */
function messageFile(dir: string): string {
  // smtp-source sends each line of the file with CRLF itself: the file has LF line ends.
  const line = 'Our November newsletter with product news, events and offers for you.\n';
  const body = line.repeat(Math.ceil(SIZE / line.length));
  const file = join(dir, 'message.eml');
  writeFileSync(file, `From: News <news@${DOMAIN}>\nTo: reader@sink.example\nSubject: Weekly news\nX-Tegami-List: weekly\n`
    + 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n' + body);
  return file;
}

/** smtp-sink with running counters (`-c`); with `dump`, every message is written there. */
async function sink(port: number, dump?: string) {
  const args = ['-u', 'nobody', '-c', ...(dump ? ['-D', join(dump, 'm%s')] : []), `127.0.0.1:${port}`, '512'];
  const p = spawn('smtp-sink', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const state = { messages: 0, lastAt: performance.now() };
  p.stdout!.setEncoding('latin1').on('data', (d: string) => {
    const all = [...d.matchAll(/mesg=(\d+)/g)];
    if (!all.length) return;
    const n = Number(all[all.length - 1][1]);
    if (n > state.messages) Object.assign(state, { messages: n, lastAt: performance.now() });
  });
  await waitPort(port, 'smtp-sink');
  return { p, state };
}

/**
 * Sends `count` messages with smtp-source; returns seconds until all were accepted and until the
 * sink had the last one. A message the relay deferred (retried minutes later) would stall the
 * run: after 20 s without progress it stops and reports how many arrived.
 */
async function drive(target: number, sinkPort: number, count: number, file: string, dump?: string) {
  const { p: s, state } = await sink(sinkPort, dump);
  const t0 = performance.now();
  const src = spawn('smtp-source', ['-s', String(SESSIONS), '-m', String(count), '-d', '-N', '-F', file, '-f', `news@${DOMAIN}`, '-t', 'reader@sink.example', `127.0.0.1:${target}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const [code] = await once(src, 'exit');
  const accepted = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`smtp-source exited ${code}`);
  while (state.messages < count && performance.now() - state.lastAt < 20_000) await new Promise((r) => setTimeout(r, 20));
  s.kill();
  await once(s, 'exit');
  return { accepted, total: (state.lastAt - t0) / 1000, delivered: state.messages };
}

/** Seeds account, domain, list, filter and an address-authenticated credential (smtp-source cannot AUTH). */
async function seedTegami(dbUrl: string) {
  const config = defaultConfig();
  config.database.url = dbUrl;
  config.http.publicUrl = 'https://mail.bench.example';
  const app = await createApp(config, [], { log: pino({ level: 'warn' }), masterKey: MASTER_KEY, listen: false, startLoops: false });
  const acc = await app.core.accounts.createAccount('bench');
  await app.core.domains.addDomain(acc.id, DOMAIN);
  const list = await app.core.lists.create(acc.id, { name: 'Weekly news' });
  await app.core.relay.createFilter(acc.id, { header: 'X-Tegami-List', match: 'exact', value: 'weekly', list_id: list.id });
  await app.core.relay.createCredential(acc.id, { name: 'bench', allowed_ips: ['127.0.0.1'], ip_auth: true, rate_per_minute: 1_000_000 });
  await app.stop();
}

async function startTegami(dir: string, relayPort: number, sinkPort: number): Promise<{ procs: ChildProcess[]; stop: () => Promise<void> }> {
  const dbUrl = `sqlite:${join(dir, 'tegami.db')}`;
  await seedTegami(dbUrl);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const env = {
    ...process.env, TEGAMI_CONFIG: '/dev/null', TEGAMI_LOG_LEVEL: 'warn', TEGAMI_DATABASE_URL: dbUrl, TEGAMI_MASTER_KEY: MASTER_KEY.toString('base64'),
    TEGAMI_HTTP_PUBLIC_URL: 'https://mail.bench.example', TEGAMI_SMTP_SUBMISSION_PORT: String(relayPort), TEGAMI_SMTP_HOSTNAME: 'tegami.bench.localdomain',
    TEGAMI_RELAY_TLS_CERT_FILE: join(dir, 'cert.pem'), TEGAMI_RELAY_TLS_KEY_FILE: join(dir, 'key.pem'),
    TEGAMI_TRANSPORT_KIND: 'smtp', TEGAMI_TRANSPORT_SMTP_HOST: '127.0.0.1', TEGAMI_TRANSPORT_SMTP_PORT: String(sinkPort),
    TEGAMI_TRANSPORT_SMTP_REQUIRE_TLS: 'false', TEGAMI_TRANSPORT_SMTP_MAX_CONNECTIONS: '10',
    TEGAMI_WORKER_POLL_MS: '20', TEGAMI_WORKER_BATCH_SIZE: '500', TEGAMI_WORKER_CONCURRENCY: '50',
  };
  // --profile DIR: CPU profiles of the tegami processes (written when they stop).
  const prof = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', process.argv[process.argv.indexOf('--profile') + 1]] : [];
  const run = (args: string[]) => spawn(process.execPath, [...prof, '--import', 'tsx', 'src/cli/main.ts', ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const procs = SINGLE ? [run(['serve', '--roles', 'smtp,worker'])] : [run(['serve', '--roles', 'smtp']), run(['worker'])];
  await waitPort(relayPort, 'tegami relay');
  return {
    procs,
    async stop() {
      for (const p of procs) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        const gone = once(p, 'exit');
        p.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    },
  };
}

/** Headers of the first dumped message, to check that the side really signed (and tegami added one-click). */
function firstDumpHeaders(dump: string): string {
  const f = readdirSync(dump).sort()[0];
  if (!f) throw new Error(`nothing dumped in ${dump}`);
  return readFileSync(join(dump, f), 'latin1').split(/\r?\n\r?\n/)[0];
}

ensurePostfixPackages();
const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-relay-'));
chmodSync(dir, 0o755);
const file = messageFile(dir);
const [pfxPort, milterPort, pfxSink, tgPort, tgSink] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
const dumpDir = (name: string) => { const d = join(dir, name); mkdirSync(d); chmodSync(d, 0o777); return d; };
const postfix = await startPostfixRelay(dir, { smtpdPort: pfxPort, milterPort, sinkPort: pfxSink, domain: DOMAIN });
let tegami: Awaited<ReturnType<typeof startTegami>> | null = null;
try {
  await waitPort(pfxPort, 'postfix smtpd');
  await waitPort(milterPort, 'opendkim');
  tegami = await startTegami(dir, tgPort, tgSink);
  // Warm-up runs (JIT, connection pools, OpenDKIM key load), dumped to check the bytes.
  const pd = dumpDir('dump-postfix');
  const td = dumpDir('dump-tegami');
  await drive(pfxPort, pfxSink, WARM, file, pd);
  await drive(tgPort, tgSink, WARM, file, td);
  const ph = firstDumpHeaders(pd);
  const th = firstDumpHeaders(td);
  if (!/^DKIM-Signature:/mi.test(ph)) throw new Error('the Postfix side did not sign');
  if (!/^DKIM-Signature:/mi.test(th) || !/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/mi.test(th) || /^X-Tegami-List:/mi.test(th)) throw new Error(`the tegami side did not rewrite and sign:\n${th}`);
  const p = await drive(pfxPort, pfxSink, N, file);
  const t = await drive(tgPort, tgSink, N, file);
  const pRate = p.delivered / p.total;
  const tRate = t.delivered / t.total;
  printTable([
    { run: `tegami relay (${SINGLE ? '1 process' : 'relay + worker processes'}, SQLite, one-click headers, RSA+Ed25519)`, messages: N, delivered: t.delivered, 'accepted s': t.accepted.toFixed(2), 'delivered s': t.total.toFixed(2), 'msgs/s': Math.round(tRate) },
    { run: 'Postfix 3.7 + OpenDKIM (RSA)', messages: N, delivered: p.delivered, 'accepted s': p.accepted.toFixed(2), 'delivered s': p.total.toFixed(2), 'msgs/s': Math.round(pRate) },
  ]);
  console.log(`tegami / Postfix+OpenDKIM = ${(tRate / pRate).toFixed(2)} (target >= 1.0)`);
  writeResult('relay', {
    messages: N, sessions: SESSIONS, messageBytes: readFileSync(file).length, split: !SINGLE,
    tegami: { delivered: t.delivered, acceptedSeconds: t.accepted, deliveredSeconds: t.total, msgsPerSec: tRate },
    postfixOpendkim: { delivered: p.delivered, acceptedSeconds: p.accepted, deliveredSeconds: p.total, msgsPerSec: pRate },
    loadAverage: loadavg(),
    ratio: tRate / pRate,
  });
} finally {
  await tegami?.stop();
  await postfix.stop();
  rmSync(dir, { recursive: true, force: true });
}
