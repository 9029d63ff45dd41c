/**
 * bench/scale: the same N-recipient campaign on PostgreSQL sent by 1 `tegami worker` process,
 * then by 2, to a loopback smtp-server in a child process that counts every recipient (so
 * duplicates and losses are counted, not assumed). Baseline: the 1-worker run. Target: 2
 * workers ≥ 1.6× one worker on a 2-core machine, 0 duplicates, 0 missing.
 * Run: npx tsx bench/scale.ts [--rows 20000] [--threads 0] [--repeat 1] [--batch 200] [--concurrency 40] [--from-src]
 * BENCH_WORKER_NODE_FLAGS adds node flags to the workers' (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * Needs PostgreSQL: TEGAMI_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test); each
 * run uses a fresh schema that is dropped afterwards.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../src/app/worker-memory.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { openDb } from '../src/store/db.js';
import { arg, cpuPairFactor, machineCpu, printTable, procStat, seedSubscribers, writeResult, dropPgSchema } from './lib.js';

const N = arg('rows', 20_000);
const THREADS = arg('threads', 0);
const REPEAT = arg('repeat', 1);
const BATCH = arg('batch', 200);
const CONCURRENCY = arg('concurrency', 40);
const PG_URL = process.env.TEGAMI_BENCH_PG_URL ?? process.env.TEGAMI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROOT = new URL('..', import.meta.url).pathname;
const MASTER = Buffer.alloc(32, 9);
// Workers run the compiled build (dist/, built here first), as the systemd unit runs them
// (bin/tegami.js runs dist/ when it is current): tsx's loader thread is not part of a deployment.
// --from-src runs them through tsx instead.
const FROM_SRC = process.argv.includes('--from-src');
const WORKER_SCRIPT = FROM_SRC ? ['--import', 'tsx', 'src/cli/main.ts'] : ['dist/src/cli/main.js'];

/** A child process speaking one line per request (the scale sink). */
export async function lineChild(script: string): Promise<{ child: ChildProcess; first: string; ask: (l: string) => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts.filter(Boolean));
    wake?.();
  });
  const next = async () => { while (!lines.length) await new Promise<void>((r) => (wake = r)); return lines.shift()!; };
  const first = await next();
  return { child, first, ask: async (l) => { child.stdin!.write(`${l}\n`); return next(); } };
}

/** Sink stats: messages received, distinct recipients, extra copies. */
export interface SinkStats { received: number; distinct: number; duplicates: number }

/** Starts the per-recipient counting sink in a child process. */
export async function scaleSink() {
  const c = await lineChild(new URL('./scale-sink.ts', import.meta.url).pathname);
  return {
    port: Number(c.first),
    stats: async (reset = false): Promise<SinkStats> => JSON.parse(await c.ask(reset ? 'reset' : 'stats')),
    close: async () => { c.child.kill(); },
    pid: c.child.pid!,
  };
}

/** Starts `tegami worker` processes; resolves once each has logged that it started. */
export async function startWorkers(n: number, env: Record<string, string>): Promise<ChildProcess[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<ChildProcess>((resolve, reject) => {
    // Started as the systemd unit starts a worker (docs/systemd.md); --no-worker-flags: without its node flags.
    const flags: string[] = process.argv.includes('--no-worker-flags') ? [] : [...WORKER_NODE_FLAGS];
    flags.push(...(process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean));
    const child = spawn(process.execPath, [...flags, ...WORKER_SCRIPT, 'worker'], {
      cwd: ROOT, env: { ...process.env, ...(flags.length ? WORKER_ENV : {}), TEGAMI_CONFIG: '/dev/null', TEGAMI_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const tee = process.env.BENCH_WORKER_STDOUT ? createWriteStream(`${process.env.BENCH_WORKER_STDOUT}.${child.pid}`) : null;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      tee?.write(d);
      out += d;
      if (out.includes('"tegami started"')) { out = ''; resolve(child); }
      if (out.length > 100_000) out = out.slice(-1000);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  })));
}

/** Stops worker processes with SIGTERM and waits for their exit codes. */
export async function stopWorkers(ws: ChildProcess[]): Promise<Array<number | null>> {
  return Promise.all(ws.map((w) => new Promise<number | null>((r) => {
    if (w.exitCode !== null) return r(w.exitCode);
    w.removeAllListeners('exit');
    w.once('exit', (code) => r(code));
    w.kill('SIGTERM');
  })));
}

/** Creates a fresh PG schema with an account, a domain, an N-contact list and a campaign. */
async function prepare(n: number) {
  const schema = `bench_scale_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = openDb({ url: PG_URL, schema, poolSize: 4 });
  const config = defaultConfig();
  config.http.publicUrl = 'https://mail.bench.example';
  const app = await createApp(config, [], { store, log: pino({ level: 'warn' }), masterKey: MASTER, listen: false, startLoops: false });
  const acc = await app.core.accounts.createAccount('bench');
  await app.core.domains.addDomain(acc.id, 'bench.example');
  const list = await app.core.lists.create(acc.id, { name: 'all' });
  await seedSubscribers(store.db, acc.id, n, [{ id: list.id }], (i) => ({ address: `u${i}@rcpt${i % 50}.example`, attributes: { first: `Name${i}` } }));
  const html = `<p>Hello {{ first }}</p>${'<p>News, events and offers for you this month. '.repeat(30)}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`;
  const c = await app.core.campaigns.create(acc.id, { name: 'scale', list_ids: [list.id], from: 'News <news@bench.example>', subject: 'News for {{ first }}', html });
  return {
    schema, app, accountId: acc.id, campaignId: c.id,
    async drop() {
      await app.stop();
      await store.close();
      await dropPgSchema(PG_URL, schema);
    },
  };
}

/** user+system CPU seconds of a live process (Linux /proc), or NaN elsewhere. */
const cpuSeconds = (pid: number) => procStat(`/proc/${pid}/stat`)?.cpuSeconds ?? NaN;

/** CPU seconds of a process's main thread (the rest: V8's GC and compiler helpers, libuv). */
const mainThreadCpuSeconds = (pid: number) => procStat(`/proc/${pid}/task/${pid}/stat`)?.cpuSeconds ?? NaN;

/** CPU seconds of all PostgreSQL server processes (backends, WAL writer, checkpointer), Linux /proc. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    const st = /^\d+$/.test(pid) ? procStat(`/proc/${pid}/stat`) : null;
    if (st?.comm === 'postgres') total += st.cpuSeconds;
  }
  return total;
}

/** How many messages each worker process sent (from the sent events). */
async function sentByWorker(p: Awaited<ReturnType<typeof prepare>>): Promise<Record<string, number>> {
  const rows = await p.app.deps.store.db.selectFrom('events').select('data').where('type', '=', 'sent').where('campaign_id', '=', p.campaignId).execute();
  const out: Record<string, number> = {};
  for (const r of rows) { const pid = String(JSON.parse(r.data!).worker).split(':')[1]; out[pid] = (out[pid] ?? 0) + 1; }
  return out;
}

/**
 * Messages a second between the sink holding 20 % and 90 % of the recipients: the rate once the
 * campaign is planned and the workers' code is compiled, before the last batches trail off.
 */
function steadyRate(timeline: Array<[number, number]>, n: number): number {
  const at = (f: number) => timeline.find(([, d]) => d >= f * n);
  const a = at(0.2);
  const b = at(0.9);
  return a && b && b[0] > a[0] ? (b[1] - a[1]) / (b[0] - a[0]) : NaN;
}

/** One run: K worker processes send the campaign; time from schedule to the last recipient received. */
async function runOnce(workers: number, sink: Awaited<ReturnType<typeof scaleSink>>) {
  const p = await prepare(N);
  await sink.stats(true);
  const env = {
    TEGAMI_DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${p.schema}`,
    TEGAMI_MASTER_KEY: MASTER.toString('base64'), TEGAMI_HTTP_PUBLIC_URL: 'https://mail.bench.example',
    TEGAMI_TRANSPORT_KIND: 'smtp', TEGAMI_TRANSPORT_SMTP_HOST: '127.0.0.1', TEGAMI_TRANSPORT_SMTP_PORT: String(sink.port),
    TEGAMI_TRANSPORT_SMTP_REQUIRE_TLS: 'false', TEGAMI_TRANSPORT_SMTP_MAX_CONNECTIONS: '10',
    TEGAMI_WORKER_BATCH_SIZE: String(BATCH), TEGAMI_WORKER_CONCURRENCY: String(CONCURRENCY), TEGAMI_WORKER_POLL_MS: '50', TEGAMI_WORKER_RENDER_THREADS: String(THREADS),
    TEGAMI_DATABASE_POOL_SIZE: '4',
  };
  const ws = await startWorkers(workers, env);
  const sinkCpu0 = cpuSeconds(sink.pid);
  const pgCpu0 = postgresCpuSeconds();
  const machine0 = machineCpu();
  // From here on: start-up (tsx compiling the sources) is not part of the run.
  const cpu0 = ws.map((w) => cpuSeconds(w.pid!));
  const mainCpu0 = ws.map((w) => mainThreadCpuSeconds(w.pid!));
  const t0 = performance.now();
  await p.app.core.campaigns.schedule(p.accountId, p.campaignId);
  let s = await sink.stats();
  const deadline = Date.now() + 20 * 60_000;
  const timeline: Array<[number, number]> = [];
  while (s.distinct < N && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    s = await sink.stats();
    timeline.push([(performance.now() - t0) / 1000, s.distinct]);
  }
  const secs = (performance.now() - t0) / 1000;
  const sinkCpuShare = (cpuSeconds(sink.pid) - sinkCpu0) / secs;
  // The whole machine over the run (workers, PostgreSQL, the sink, this script, the kernel):
  // cores busy, and the share of all cores' time that was idle.
  const machine1 = machineCpu();
  const machineBusyCores = machine0 && machine1 ? (machine1.busy - machine0.busy) / secs : NaN;
  const machineIdleShare = machine0 && machine1 ? 1 - (machine1.busy - machine0.busy) / (machine1.all - machine0.all) : NaN;
  // PostgreSQL's CPU per message, all of its processes (the run's other clients are idle).
  const pgCpuMsPerMsg = ((postgresCpuSeconds() - pgCpu0) * 1000) / N;
  // Let the workers record the last batch and close the campaign, then stop them gracefully.
  let status = '';
  for (let i = 0; i < 100 && status !== 'sent'; i++) {
    status = (await p.app.core.campaigns.progress(p.accountId, p.campaignId)).status;
    if (status !== 'sent') await new Promise((r) => setTimeout(r, 100));
  }
  const cpu = ws.map((w, i) => cpuSeconds(w.pid!) - cpu0[i]);
  const mainCpu = ws.map((w, i) => mainThreadCpuSeconds(w.pid!) - mainCpu0[i]);
  const codes = await stopWorkers(ws);
  s = await sink.stats();
  const prog = await p.app.core.campaigns.progress(p.accountId, p.campaignId);
  const perWorkerSent = await sentByWorker(p);
  await p.drop();
  return { workers, secs, msgsPerSec: N / secs, steadyMsgsPerSec: steadyRate(timeline, N), firstAt: timeline.find(([, d]) => d > 0)?.[0] ?? NaN, received: s.received, distinct: s.distinct, duplicates: s.duplicates, missing: N - s.distinct, status: prog.status, sentRows: prog.sent, exitCodes: codes,
    // CPU seconds each worker used (from /proc) and the share of the run it was on a core:
    // well below 1 with idle time left means the worker waited (database, sink, other load).
    workerCpuSeconds: cpu, workerCpuShare: cpu.map((c) => c / secs), workerMainThreadShare: mainCpu.map((c) => c / secs), sinkCpuShare, pgCpuMsPerMsg, machineBusyCores, machineIdleShare,
    // The workers' CPU per message (all threads).
    cpuMsPerMsg: ((cpu.reduce((a, b) => a + b, 0)) * 1000) / N,  perWorkerSent, loadavg: loadavg() };
}

/** Runs 1 worker and 2 workers (`repeat` times each, alternating) and returns the best of each. */
export async function runScale(opts: { rows?: number; repeat?: number } = {}) {
  if (!FROM_SRC) execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const sink = await scaleSink();
  const runs: Array<Awaited<ReturnType<typeof runOnce>>> = [];
  // The machine's own pair factor, before and after the rounds (its speed drifts).
  const pair = [await cpuPairFactor()];
  try {
    for (let i = 0; i < (opts.repeat ?? REPEAT); i++) {
      runs.push(await runOnce(1, sink));
      runs.push(await runOnce(2, sink));
    }
  } finally {
    await sink.close();
  }
  pair.push(await cpuPairFactor());
  const pairFactor = (pair[0].factor + pair[1].factor) / 2;
  const best = (k: number) => runs.filter((r) => r.workers === k).sort((a, b) => b.msgsPerSec - a.msgsPerSec)[0];
  const one = best(1);
  const two = best(2);
  const duplicates = runs.reduce((n, r) => n + r.duplicates, 0);
  const missing = runs.reduce((n, r) => n + r.missing, 0);
  // The most two workers can reach against one here: one worker's run kept `machineBusyCores` busy
  // (the worker, PostgreSQL, the sink, the kernel) for its rate, and two workers have at most
  // `pairFactor` such cores' worth. A ratio near it means the workers themselves scale.
  const ceiling = pairFactor / one.machineBusyCores;
  return { rows: N, renderThreads: THREADS, batchSize: BATCH, concurrency: CONCURRENCY, runs, one, two, ratio: two.msgsPerSec / one.msgsPerSec, pair, pairFactor, ceiling, duplicates, missing, loadavg: loadavg() };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = await runScale();
  printTable(r.runs.map((x) => ({
    run: `${x.workers} worker process${x.workers > 1 ? 'es' : ''} (PostgreSQL)`, messages: N, seconds: x.secs.toFixed(1), 'msgs/s': Math.round(x.msgsPerSec),
    'steady msgs/s (20-90 %)': Math.round(x.steadyMsgsPerSec), 'first at s': x.firstAt.toFixed(1),
    received: x.received, duplicates: x.duplicates, missing: x.missing, campaign: x.status, 'exit codes': x.exitCodes.join(','),
    'worker CPU share (main thread)': x.workerCpuShare.map((c, i) => `${c.toFixed(2)} (${x.workerMainThreadShare[i].toFixed(2)})`).join(' '), 'sink CPU share': x.sinkCpuShare.toFixed(2),
    'worker / PostgreSQL CPU ms per msg': `${x.cpuMsPerMsg.toFixed(2)} / ${x.pgCpuMsPerMsg.toFixed(2)}`,
    'machine cores busy (idle %)': `${x.machineBusyCores.toFixed(2)} (${(x.machineIdleShare * 100).toFixed(0)} %)`, 'sent per worker': Object.values(x.perWorkerSent).join(' '),
    'load avg (1 min)': x.loadavg[0].toFixed(1),
  })));
  console.log(`machine: two CPU-bound processes give ${r.pair.map((p) => p.factor.toFixed(2)).join(' and ')} x one (before, after); one worker's run kept ${r.one.machineBusyCores.toFixed(2)} cores busy`);
  console.log(`ceiling here: ${r.pairFactor.toFixed(2)} / ${r.one.machineBusyCores.toFixed(2)} = ${r.ceiling.toFixed(2)}; 1.6 needs one worker's run to keep <= ${(r.pairFactor / 1.6).toFixed(2)} cores busy`);
  console.log(`2 workers / 1 worker = ${r.ratio.toFixed(2)} (target >= 1.6; ${((r.ratio / r.ceiling) * 100).toFixed(0)} % of the ceiling); duplicates ${r.duplicates}, missing ${r.missing} (target 0); load average ${r.loadavg.map((l) => l.toFixed(1)).join(' ')}`);
  writeResult('scale', r);
}
