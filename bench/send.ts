/**
 * bench/send: an N-recipient campaign (default 100,000) on SQLite sent by one worker to a
 * loopback smtp-server, end to end (planning, suppression checks, render, RSA+Ed25519 DKIM,
 * SMTP, durable logging), beside in the same run (a) a naive loop of nodemailer MailComposer +
 * nodemailer RSA DKIM + SMTP pool over the same recipients and (b) `openssl speed rsa2048`.
 * The data is generated here; tegami's sending and the naive loop each run in a child process
 * of their own, whose peak RSS is its VmHWM (/proc/self/status: all its threads, since they share
 * one address space). The sink is a third child process.
 * Run: npx tsx bench/send.ts [--rows N] [--naive N] [--threads N] [--batch N] [--concurrency N] [--lanes N] [--connections N] [--only-tegami] [--from-src] [--no-worker-flags]
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../src/app/worker-memory.js';
import { runPool } from '../src/send/pool.js';
import { arg, printTable, procMb, seedSubscribers, threadCpu, writeResult } from './lib.js';
import { childSink } from './sink.js';

const N = arg('rows', 100_000);
const NAIVE = arg('naive', Math.min(N, 20_000));
const HTML = `<html><body><h1>Hello {{ first }}</h1>${'<p>Our November newsletter with product news, events and offers for you. '.repeat(40)}</p>`
  + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>';
const MASTER = Buffer.alloc(32, 7);
const role = process.argv[process.argv.indexOf('--role') + 1];
const FROM_SRC = process.argv.includes('--from-src');

/** The main heap's spaces, `name=size` MB (`name=size/used` with `used`). */
async function heapSpaces(used: boolean): Promise<string> {
  const mb = (n: number) => Math.round(n / 1048576);
  return (await import('node:v8')).getHeapSpaceStatistics()
    .map((x) => `${x.space_name.replace('_space', '')}=${mb(x.space_size)}${used ? `/${mb(x.space_used_size)}` : ''}`).join(' ');
}

/** Peak and current RSS of this process and all its threads, MB. */
function memory(): { peak: number; now: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  return { peak: procMb(s, 'VmHWM'), now: procMb(s, 'VmRSS') };
}

function benchConfig(dbFile: string, sinkPort: number) {
  const config = defaultConfig();
  Object.assign(config.database, { url: `sqlite:${dbFile}` });
  config.http.publicUrl = 'https://mail.bench.example';
  config.transport.kind = 'smtp';
  Object.assign(config.transport.smtp, { host: '127.0.0.1', port: sinkPort, requireTls: false, maxConnections: arg('connections', 10) });
  Object.assign(config.worker, {
    // The configuration defaults (200 / 20), as a deployment runs; results before 2026-12-05 used
    // --batch 500 --concurrency 50, which holds more rows and copies in flight for no more msgs/s.
    batchSize: arg('batch', config.worker.batchSize), concurrency: arg('concurrency', config.worker.concurrency), renderThreads: arg('threads', config.worker.renderThreads),
    lanes: arg('lanes', config.worker.lanes),
  });
  // --main-renders auto|on|off: whether the main thread renders too when the render threads are busy.
  const mr = process.argv.indexOf('--main-renders');
  if (mr > 0) config.worker.mainThreadRenders = process.argv[mr + 1] as typeof config.worker.mainThreadRenders;
  return config;
}

/** In the parent: an account, domain, list, N subscribed contacts, 1 % suppressed, a campaign. */
async function prepare(dbFile: string) {
  const app = await createApp(benchConfig(dbFile, 1), ['worker'], { log: pino({ level: 'warn' }), masterKey: MASTER, startLoops: false, listen: false });
  const { core, deps } = app;
  const acc = await core.accounts.createAccount('bench');
  await core.domains.addDomain(acc.id, 'bench.example');
  const list = await core.lists.create(acc.id, { name: 'all' });
  await seedSubscribers(deps.store.db, acc.id, N, [{ id: list.id }], (i) => ({ address: `u${i}@rcpt${i % 50}.example`, attributes: { first: `Name${i}` } }));
  // 1 % suppressed, so the checks do real work.
  await core.suppressions.add(acc.id, Array.from({ length: Math.floor(N / 100) }, (_, k) => ({ address: `u${k * 100}@rcpt${(k * 100) % 50}.example`, scope: 'account' as const, reason: 'manual' })), { source: 'bench' });
  const c = await core.campaigns.create(acc.id, { name: 'bench', list_ids: [list.id], from: 'News <news@bench.example>', subject: 'News for {{ first }}', html: HTML });
  await app.stop();
  return { accountId: acc.id, campaignId: c.id };
}

/** BENCH_SMAPS: the largest resident anonymous mappings (V8 spaces, malloc arenas, thread stacks), bucketed by mapping size. */
function smaps(label: string) {
  const maps = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  const rows = maps.map((m) => ({ head: m.split('\n')[0], size: Number(/^Size:\s+(\d+)/m.exec(m)?.[1] ?? 0), rss: Number(/^Rss:\s+(\d+)/m.exec(m)?.[1] ?? 0) }))
    .filter((r) => !/\//.test(r.head)).sort((a, b) => b.rss - a.rss);
  const bucket = new Map<string, number>();
  for (const r of rows) { const k = r.size >= 65536 ? '64MB+ (malloc arena?)' : r.size >= 32768 ? '32-64MB' : r.size >= 8192 ? '8-32MB' : r.size >= 1024 ? '1-8MB' : r.size >= 256 ? '256KB-1MB' : '<256KB'; bucket.set(k, (bucket.get(k) ?? 0) + r.rss); }
  process.stderr.write(`${label} anon RSS by mapping size (MB): ${[...bucket].map(([k, v]) => `${k}=${Math.round(v / 1024)}`).join(' ')}\n`);
  process.stderr.write(rows.slice(0, 12).map((r) => `  ${Math.round(r.rss / 1024)} MB of ${Math.round(r.size / 1024)} MB ${r.head}`).join('\n') + '\n');
}

/** In the tegami child: schedule and send the prepared campaign with one worker. */
async function tegamiChild() {
  const dbFile = process.argv[process.argv.indexOf('--db') + 1];
  const [port, accountId, campaignId] = ['--port', '--account', '--campaign'].map((k) => process.argv[process.argv.indexOf(k) + 1]);
  // The production loops (planner and `worker.lanes` sending lanes), as `tegami worker` runs them.
  const app = await createApp(benchConfig(dbFile, Number(port)), ['worker'], { log: pino({ level: 'warn' }), masterKey: MASTER, startLoops: true, listen: false });
  const atStart = memory().now;
  if (process.env.BENCH_SMAPS === '2') smaps('start');
  // BENCH_MEM_TIMELINE=1 prints the process's memory every 2 s to stderr (=MS: every MS ms), with V8's spaces (size/used MB).
  const timeline = process.env.BENCH_MEM_TIMELINE ? setInterval(async () => {
    (globalThis as { gc?: () => void }).gc?.(); // with BENCH_NODE_FLAGS=--expose-gc: live memory only
    const m = process.memoryUsage();
    const roll = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kbOf = (k: string) => procMb(roll, k);
    process.stderr.write(`anon ${kbOf('Anonymous')} file ${kbOf('Rss') - kbOf('Anonymous')} `);
    process.stderr.write(`${await heapSpaces(true)} rss ${memory().now} heapUsed ${Math.round(m.heapUsed / 1048576)} heapTotal ${Math.round(m.heapTotal / 1048576)} external ${Math.round(m.external / 1048576)} arrayBuffers ${Math.round(m.arrayBuffers / 1048576)}\n`);
  }, Number(process.env.BENCH_MEM_TIMELINE) > 1 ? Number(process.env.BENCH_MEM_TIMELINE) : 2000) : null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // BENCH_HWM_WATCH=1: every 100 ms, a line whenever the peak (VmHWM) rose by 1 MB or more, with
  // what is resident (anonymous, file-backed, shared) and the main heap's spaces at that moment:
  // finds a transient peak that timeline samples miss.
  let lastHwm = 0;
  const hwmWatch = process.env.BENCH_HWM_WATCH ? setInterval(async () => {
    const st = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string) => procMb(st, k);
    if (kb('VmHWM') < lastHwm + 1) return;
    lastHwm = kb('VmHWM');
    process.stderr.write(`hwm ${lastHwm} at ${((performance.now() - t0) / 1000).toFixed(1)} s: rss ${kb('VmRSS')} anon ${kb('RssAnon')} file ${kb('RssFile')} shmem ${kb('RssShmem')} ${await heapSpaces(false)}\n`);
  }, 100) : null;
  await app.core.campaigns.schedule(accountId, campaignId);
  if (timeline) process.stderr.write(`scheduled; VmHWM ${memory().peak}\n`);
  // Finished when the planner marks the campaign sent (every message final).
  while ((await app.core.campaigns.get(accountId, campaignId)).status !== 'sent') await new Promise((r) => setTimeout(r, 100));
  if (timeline) process.stderr.write(`drained; VmHWM ${memory().peak}\n`);
  if (process.env.BENCH_SMAPS) smaps('end');
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (timeline) clearInterval(timeline);
  if (hwmWatch) clearInterval(hwmWatch);
  const p = await app.core.campaigns.progress(accountId, campaignId);
  const mem = memory();
  const heap = process.memoryUsage();
  if (process.env.BENCH_THREAD_CPU) {
    // CPU seconds per thread of this process (main, render threads, V8 and libuv helpers).
    const threads = threadCpu().map((t) => `${t.main ? 'main' : `${t.comm}:${t.tid}`}=${t.cpuSeconds.toFixed(1)}`);
    process.stderr.write(`thread CPU s: ${threads.join(' ')} (wall ${secs.toFixed(1)} s)\n`);
  }
  await app.stop();
  return {
    secs, rss: mem.peak, rssAtStart: atStart, rssAtEnd: mem.now, sent: p.sent, skipped: p.skipped,
    mainHeapMb: Math.round(heap.heapTotal / 1048576), externalMb: Math.round(heap.external / 1048576),
    // CPU of the whole process (all threads) per message: less sensitive to other load than msgs/s.
    cpuMsPerMsg: (cpu.user + cpu.system) / 1000 / (p.sent + p.skipped),
    nodeFlags: process.execArgv.join(' '), renderThreads: app.deps.config.worker.renderThreads, mainThreadRenders: app.deps.config.worker.mainThreadRenders,
  };
}

/** In the naive child. */
async function naiveChild() {
  const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const transport = nodemailer.createTransport({
    pool: true, host: '127.0.0.1', port, maxConnections: 10, maxMessages: 1_000_000, ignoreTLS: true,
    dkim: { domainName: 'bench.example', keySelector: 's1', privateKey: pem },
  } as never);
  const html = HTML.replace('{{ unsubscribe_url }}', 'https://mail.bench.example/u/x');
  const idx = Array.from({ length: NAIVE }, (_, i) => i);
  const t0 = performance.now();
  await runPool(idx, 50, (i) => transport.sendMail({ from: 'News <news@bench.example>', to: `u${i}@rcpt${i % 50}.example`, subject: `News for Name${i}`, html: html.replace('{{ first }}', `Name${i}`) }));
  const secs = (performance.now() - t0) / 1000;
  transport.close();
  return { secs, rss: memory().peak };
}

/**
 * Runs this script in a child process in `role` and returns the JSON it prints last. The children
 * run the compiled build (dist/, built by the parent with `npm run build`), as a production
 * deployment does: tsx's loader thread alone adds ~35 MB to a process. `--from-src` runs them
 * through tsx instead.
 */
function child<T>(childRole: string, args: string[]): Promise<T> {
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the children; BENCH_WRAP (e.g.
  // "heaptrack -o /tmp/ht/tegami") runs tegami's child under a tool (its output must not end with a JSON line).
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  // tegami's child starts as the systemd unit starts a worker (docs/systemd.md: node flags and
  // WORKER_ENV); --no-worker-flags: without them.
  if (childRole === 'tegami' && !process.argv.includes('--no-worker-flags')) flags.unshift(...WORKER_NODE_FLAGS);
  const script = FROM_SRC ? ['--import', 'tsx', fileURLToPath(import.meta.url)] : [fileURLToPath(new URL('../dist/bench/send.js', import.meta.url))];
  const wrap = childRole === 'tegami' ? (process.env.BENCH_WRAP ?? '').split(' ').filter(Boolean) : [];
  const proc = spawn(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), ...flags, ...script, '--role', childRole, ...process.argv.slice(2), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], env: childRole === 'tegami' && !process.argv.includes('--no-worker-flags') ? { ...process.env, ...WORKER_ENV } : process.env });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return new Promise<T>((resolve, reject) => proc.on('close', (code) => {
    if (code !== 0) reject(new Error(`${childRole} child exited with ${code}`));
    else resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
  }));
}

function openssl(): number {
  const out = execFileSync('openssl', ['speed', '-seconds', '3', 'rsa2048'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const line = out.split('\n').find((l) => /^rsa\s+2048/.test(l.trim()))!;
  return Number(line.trim().split(/\s+/)[5]);
}

if (role === 'tegami' || role === 'naive') {
  const r = role === 'tegami' ? await tegamiChild() : await naiveChild();
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

if (!FROM_SRC) execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: ['ignore', 'ignore', 'inherit'] });
const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-send-'));
const dbFile = join(dir, 'tegami.db');
const ids = await prepare(dbFile);
const sink = await childSink();
type TegamiResult = { secs: number; rss: number; rssAtStart: number; rssAtEnd: number; sent: number; skipped: number };
const t = await child<TegamiResult>('tegami', ['--db', dbFile, '--port', String(sink.port), '--account', ids.accountId, '--campaign', ids.campaignId]);
rmSync(dir, { recursive: true, force: true });
if (process.argv.includes('--only-tegami')) {
  console.log(t, `${Math.round((t.sent + t.skipped) / t.secs)} msgs/s`);
  writeResult(`send-${N}-tegami`, { rows: N, rssMeasure: 'VmHWM of the sending child process (all threads)', tegami: { ...t, msgsPerSec: (t.sent + t.skipped) / t.secs }, loadavg: loadavg() });
  await sink.close();
  process.exit(0);
}
const n = await child<{ secs: number; rss: number }>('naive', ['--port', String(sink.port)]);
const received = await sink.count();
if (received !== t.sent + NAIVE) throw new Error(`the sink received ${received}, expected ${t.sent + NAIVE}`);
const rsa = openssl();
await sink.close();
const tRate = (t.sent + t.skipped) / t.secs;
const nRate = NAIVE / n.secs;
printTable([
  { run: 'tegami campaign end to end (1 worker, SQLite, RSA+Ed25519)', messages: t.sent + t.skipped, seconds: t.secs.toFixed(1), 'msgs/s': Math.round(tRate), 'peak RSS MB (VmHWM)': t.rss },
  { run: 'baseline (a): naive MailComposer + nodemailer RSA DKIM + pool', messages: NAIVE, seconds: n.secs.toFixed(1), 'msgs/s': Math.round(nRate), 'peak RSS MB (VmHWM)': n.rss },
  { run: 'baseline (b): openssl speed rsa2048 (sign/s, 1 core)', messages: '-', seconds: 3, 'msgs/s': Math.round(rsa), 'peak RSS MB (VmHWM)': '-' },
]);
console.log(`tegami / naive = ${(tRate / nRate).toFixed(2)} (target >= 1.5); tegami / openssl rsa2048 = ${(tRate / rsa * 100).toFixed(0)} % (target >= 35 %); tegami RSS after start ${t.rssAtStart} MB, peak ${t.rss} MB (target <= 150)`);
writeResult(`send-${N}`, {
  rows: N, rssMeasure: 'VmHWM of the sending child process (all threads)',
  tegami: { ...t, msgsPerSec: tRate }, naive: { messages: NAIVE, seconds: n.secs, msgsPerSec: nRate, peakRssMb: n.rss },
  opensslRsa2048SignPerSec: rsa, ratioNaive: tRate / nRate, ratioOpenssl: tRate / rsa,
});
