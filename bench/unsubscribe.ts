/**
 * bench/unsubscribe: one-click POSTs (each suppression committed before its reply) against the
 * real app on SQLite, beside a bare Fastify POST route in the same run, then a fixed-rate run
 * at 1,000 req/s for latency, for tegami and the bare route. The throughput load generator
 * (autocannon) runs in a child process of its own unless --loadgen-thread; the fixed-rate runs use
 * an open-loop paced generator (paced-load.mjs; --autocannon-rate: autocannon's overallRate). The throughput runs alternate between
 * the two sides in --rounds short rounds (default 5 of S/5 seconds each, the order swapped each
 * round), so a moment of the machine being slower weighs on both. Run:
 * npx tsx bench/unsubscribe.ts [--seconds S] [--rounds R] [--tokens N] [--profile] [--loadgen-thread] [--autocannon-rate] [--no-serve-flags]
 * BENCH_STALLS=1 lists the server's event-loop stalls over 8 ms during the fixed-rate run, with
 * any GC pause inside each (--profile also profiles that run: unsubscribe-fixed.cpuprofile).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { allocationProfiled, arg, printTable, profiled, threadCpu, writeResult } from './lib.js';
import { SERVE_NODE_FLAGS } from '../src/app/worker-memory.js';

// Both servers (tegami and the bare route) run in this process, with the node flags the serve
// unit starts tegami with (docs/systemd.md): re-run under them unless given or --no-serve-flags.
if (!process.argv.includes('--no-serve-flags') && !SERVE_NODE_FLAGS.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(process.execPath, [...SERVE_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const SECONDS = arg('seconds', 10);
const ROUNDS = Math.max(1, arg('rounds', 5));
const roundSeconds = Math.max(1, Math.round(SECONDS / ROUNDS));
// Enough distinct recipients that every POST of both runs commits a new suppression (no replays):
// each round's list (TOKENS / (ROUNDS + 1)) has room for a round at 33,000 req/s, 66,000 for the
// default 2 s rounds. A round that still wraps is reported (`replayed`).
const TOKENS = arg('tokens', roundSeconds * 33_000 * (ROUNDS + 1));
const FIXED_TOKENS = 1000 * SECONDS + 2000;
const BODY = 'List-Unsubscribe=One-Click';
const HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

// Where the load generator runs: `process` (default) a child process of its own; `thread` (the
// earlier set-up, kept for comparison) autocannon's worker thread inside this process.
const LOADGEN = process.argv.includes('--loadgen-thread') ? 'thread' : 'process';

type RunResult = { rps: number; p50: number; p99: number; errors: number; total: number; p90?: number; max?: number; loadgenCpuS?: number; replayed?: number };

type LoadOpts = { connections: number; rate?: number; seconds?: number };

/** Runs a load generator script in a child process of its own and returns the JSON line it prints last. */
async function loadChild<T>(script: string, url: string, pathsFile: string, opts: LoadOpts): Promise<T> {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname,
    JSON.stringify({ url, pathsFile, seconds: opts.seconds ?? SECONDS, connections: opts.connections, rate: opts.rate, body: BODY, headers: HEADERS })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`load generator ${script} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** Load from a child process (autocannon): its CPU and GC pauses are not the server's event loop's. */
async function run(url: string, pathsFile: string, opts: LoadOpts): Promise<RunResult> {
  return LOADGEN === 'thread' ? runInThread(url, pathsFile, opts) : loadChild<RunResult>('./unsubscribe-load.mjs', url, pathsFile, opts);
}

/**
 * The fixed-rate runs: an open-loop generator (paced-load.mjs) sends request k at start + k/rate
 * over a keep-alive pool; p50/p99 from the moment each request was written, `due` from the
 * moment it was due. `--autocannon-rate` uses autocannon's `overallRate` instead (bursts at the
 * start of each second; see paced-load.mjs).
 */
async function runPaced(url: string, pathsFile: string, opts: LoadOpts & { rate: number }): Promise<RunResult & { due?: { p50: number; p99: number; max: number } }> {
  if (process.argv.includes('--autocannon-rate')) return run(url, pathsFile, opts);
  return loadChild('./paced-load.mjs', url, pathsFile, opts);
}

/** Load from a worker thread of this process (`--loadgen-thread`). */
async function runInThread(url: string, pathsFile: string, opts: LoadOpts): Promise<RunResult> {
  process.env.TEGAMI_BENCH_PATHS = pathsFile; // read by the setup module in autocannon's worker
  const r = await autocannon({
    url, duration: opts.seconds ?? SECONDS, connections: opts.connections, overallRate: opts.rate, method: 'POST', body: BODY, headers: HEADERS, workers: 1,
    requests: [{ setupRequest: new URL('./unsubscribe-setup.cjs', import.meta.url).pathname }],
  } as never);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, total: r.requests.total };
}

const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-unsub-'));
const config = defaultConfig();
config.database.url = `sqlite:${join(dir, 'tegami.db')}`;
Object.assign(config.http, { port: 0, publicUrl: 'https://mail.bench.example' });
const masterKey = Buffer.alloc(32, 3);
// The server logs at a deployment's default level (info; to /dev/null here, where a deployment
// writes to journald). BENCH_LOG_LEVEL=silent: no logger work at all (the form before session 9).
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const app = await createApp(config, ['api'], { log: pino({ level: LOG_LEVEL }, pino.destination({ dest: '/dev/null', sync: false })), masterKey });
const acc = await app.core.accounts.createAccount('bench');
const list = await app.core.lists.create(acc.id, { name: 'news' });
const db = app.deps.store.db;
const mainPaths = join(dir, 'paths.txt');
const fixedPaths = join(dir, 'paths-fixed.txt');
{
  // Scoped so the token lists are garbage before the runs: the server's heap (and so its GC
  // pauses) should not carry the load generator's data.
  const now = Date.now();
  const ids: number[] = [];
  for (let i = 0; i < TOKENS + FIXED_TOKENS; i += 1000) {
    const rows = await db.insertInto('contacts').values(Array.from({ length: Math.min(1000, TOKENS + FIXED_TOKENS - i) }, (_, j) => ({
      account_id: acc.id, address: `r${i + j}@bench.example`, address_key: `r${i + j}@bench.example`, attributes: '{}', created_at: now, updated_at: now,
    }))).returning('id').execute();
    ids.push(...rows.map((r) => Number(r.id)));
  }
  const keys = tokenKeys(masterKey);
  const paths = ids.map((id) => `/u/${createUnsubscribeToken(keys, { accountId: acc.id, listId: list.id, subject: 'c', subjectId: id, issuedAt: 1 })}`);
  writeFileSync(mainPaths, paths.slice(FIXED_TOKENS).join('\n'));
  // One file per round, so every round's POSTs are new recipients too.
  const main = paths.slice(FIXED_TOKENS);
  const per = Math.floor(main.length / (ROUNDS + 1));
  for (let r = 0; r <= ROUNDS; r++) writeFileSync(`${mainPaths}.${r}`, main.slice(r * per, (r + 1) * per).join('\n'));
  writeFileSync(fixedPaths, paths.slice(0, FIXED_TOKENS).join('\n'));
}
const count = async () => Number((await db.selectFrom('suppressions').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const bare = Fastify({ routerOptions: { maxParamLength: 500 } });
// A plain POST route: a catch-all parser reads any body into a Buffer (without one Fastify answers
// urlencoded with 415). tegami's one-click route does not read the body at all (R-UNSUB-4).
bare.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_r, body, done) => done(null, body));
bare.post('/u/:token', async () => 'Unsubscribed\n');
const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

/** Runs `fn` and adds this (server) process's CPU time per request, all threads, in microseconds. */
async function withCpu(fn: () => Promise<RunResult>) {
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  const threads = busyThreads();
  return { ...r, serverCpuUsPerReq: Math.round((c.user + c.system) / Math.max(1, r.total)), serverSysUsPerReq: Math.round(c.system / Math.max(1, r.total)), threads };
}

/** CPU seconds so far per OS thread of this process (Linux), to tell the main thread from the checkpointer and tsx's. */
function busyThreads(): Record<string, number> {
  return Object.fromEntries(threadCpu().filter((t) => t.cpuSeconds > 0.05).map((t) => [`${t.comm}:${t.tid}`, t.cpuSeconds]));
}
type Measured = Awaited<ReturnType<typeof withCpu>>;
/** The rounds of one side as one run: totals over the summed time; p50/p99 the median round's. */
function combine(rounds: Measured[], secondsEach: number): Measured & { rounds: Array<{ rps: number; serverCpuUsPerReq: number }> } {
  const total = rounds.reduce((a, r) => a + r.total, 0);
  const med = (k: 'p50' | 'p99') => rounds.map((r) => r[k]).sort((x, y) => x - y)[Math.floor(rounds.length / 2)];
  const cpuUs = rounds.reduce((a, r) => a + r.serverCpuUsPerReq * r.total, 0);
  const sysUs = rounds.reduce((a, r) => a + r.serverSysUsPerReq * r.total, 0);
  const lg = rounds.every((r) => r.loadgenCpuS !== undefined) ? rounds.reduce((a, r) => a + (r.loadgenCpuS ?? 0), 0) : undefined;
  return {
    rps: total / (secondsEach * rounds.length), total, errors: rounds.reduce((a, r) => a + r.errors, 0), p50: med('p50'), p99: med('p99'), loadgenCpuS: lg,
    replayed: rounds.reduce((a, r) => a + (r.replayed ?? 0), 0),
    serverCpuUsPerReq: Math.round(cpuUs / Math.max(1, total)), serverSysUsPerReq: Math.round(sysUs / Math.max(1, total)), threads: rounds[rounds.length - 1].threads,
    rounds: rounds.map((r) => ({ rps: Math.round(r.rps), serverCpuUsPerReq: r.serverCpuUsPerReq })),
  };
}
// Warm-up, not counted: one second each on the last slice of tokens (JIT, connections, caches).
await run(bareUrl, `${mainPaths}.${ROUNDS}`, { connections: 50, seconds: 1 });
await run(app.url!, `${mainPaths}.${ROUNDS}`, { connections: 50, seconds: 1 });
const warmCommitted = await count();
const tRounds: Measured[] = [];
const bRounds: Measured[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const bareRound = async () => { bRounds.push(await withCpu(() => run(bareUrl, `${mainPaths}.${r}`, { connections: 50, seconds: roundSeconds }))); };
  const tegamiRound = async () => {
    tRounds.push(await withCpu(() => profiled(`unsubscribe-tegami${ROUNDS > 1 ? `-round${r + 1}` : ''}`, () => run(app.url!, `${mainPaths}.${r}`, { connections: 50, seconds: roundSeconds }))));
  };
  if (r % 2 === 0) { await bareRound(); await tegamiRound(); } else { await tegamiRound(); await bareRound(); }
}
const b = combine(bRounds, roundSeconds);
const t = combine(tRounds, roundSeconds);
const afterRounds = await count();
const committedMain = afterRounds - warmCommitted; // the warm-up's are not counted
// During the fixed-rate run: the server's event-loop delay and its GC pauses (where p99 comes from).
const loop = monitorEventLoopDelay({ resolution: 1 });
const gcs: Array<{ kind: number; at: number; ms: number }> = [];
const gcObs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0, at: e.startTime, ms: e.duration });
});
gcObs.observe({ entryTypes: ['gc'] });
loop.enable();
// Server-side latency of each request (its arrival on the socket to the end of the reply),
// to tell what the endpoint adds from what the load generator and the machine add.
const serverLat: number[] = [];
const onReq = (_req: unknown, res: import('node:http').ServerResponse) => {
  const t0 = process.hrtime.bigint();
  res.once('finish', () => serverLat.push(Number(process.hrtime.bigint() - t0) / 1e6));
};
app.http!.server.prependListener('request', onReq);
const stalls: Array<[number, number]> = [];
let lastTick = performance.now();
const stallTimer = process.env.BENCH_STALLS ? setInterval(() => { const n = performance.now(); if (n - lastTick > 8) stalls.push([lastTick, n - lastTick]); lastTick = n; }, 1) : null;
const fixed = await allocationProfiled('unsubscribe-fixed', () => profiled('unsubscribe-fixed', () => runPaced(app.url!, fixedPaths, { connections: 50, rate: 1000 })));
if (stallTimer) {
  clearInterval(stallTimer);
  for (const [t, d] of stalls) {
    const g = gcs.filter((x) => x.at + x.ms >= t && x.at <= t + d).map((x) => x.ms.toFixed(1));
    process.stderr.write(`stall ${d.toFixed(1)} ms at ${t.toFixed(0)}; GC inside: ${g.join(',') || '-'}\n`);
  }
}
app.http!.server.off('request', onReq);
serverLat.sort((a, b) => a - b);
const serverPct = (q: number) => serverLat[Math.min(serverLat.length - 1, Math.floor(q * serverLat.length))] ?? NaN;
const bareFixed = await runPaced(bareUrl, fixedPaths, { connections: 50, rate: 1000 });
loop.disable();
gcObs.disconnect();
// perf_hooks GC kinds: 1 minor (scavenge), 2 major (mark-compact), 4 incremental, 8 weak callbacks.
const gcStats = {
  serverP50Ms: serverPct(0.5), serverP99Ms: serverPct(0.99), serverMaxMs: serverLat[serverLat.length - 1] ?? NaN,
  loopDelayP99Ms: loop.percentile(99) / 1e6, loopDelayMaxMs: loop.max / 1e6,
  minor: gcs.filter((g) => g.kind === 1).length, minorMaxMs: Math.max(0, ...gcs.filter((g) => g.kind === 1).map((g) => g.ms)),
  major: gcs.filter((g) => g.kind === 2).length, majorMaxMs: Math.max(0, ...gcs.filter((g) => g.kind === 2).map((g) => g.ms)),
  pausesOver5ms: gcs.filter((g) => g.ms > 5).length,
};
const committed = await count();
await bare.close();
await app.stop();
rmSync(dir, { recursive: true, force: true });

printTable([
  { run: 'tegami POST /u/TOKEN (commit before reply)', 'req/s': Math.round(t.rps), 'p50 ms': t.p50, 'p99 ms': t.p99, errors: t.errors, 'server CPU µs/req': t.serverCpuUsPerReq, 'loadgen CPU µs/req': t.loadgenCpuS ? Math.round(t.loadgenCpuS * 1e6 / t.total) : '-' },
  { run: 'baseline: bare Fastify POST route', 'req/s': Math.round(b.rps), 'p50 ms': b.p50, 'p99 ms': b.p99, errors: b.errors, 'server CPU µs/req': b.serverCpuUsPerReq, 'loadgen CPU µs/req': b.loadgenCpuS ? Math.round(b.loadgenCpuS * 1e6 / b.total) : '-' },
  { run: 'tegami at a fixed 1,000 req/s', 'req/s': Math.round(fixed.rps), 'p50 ms': fixed.p50.toFixed(1), 'p99 ms': fixed.p99.toFixed(1), errors: fixed.errors, 'server CPU µs/req': '-', 'loadgen CPU µs/req': '-' },
  { run: 'baseline: bare route at a fixed 1,000 req/s', 'req/s': Math.round(bareFixed.rps), 'p50 ms': bareFixed.p50.toFixed(1), 'p99 ms': bareFixed.p99.toFixed(1), errors: bareFixed.errors, 'server CPU µs/req': '-', 'loadgen CPU µs/req': '-' },
]);
console.log(`load generator: ${LOADGEN === 'process' ? 'child process' : 'worker thread of the server process'}; server sys CPU µs/req: tegami ${t.serverSysUsPerReq}, bare ${b.serverSysUsPerReq}`);
if (process.env.BENCH_THREAD_CPU) console.log('server threads, CPU s so far:', t.threads);
console.log(`rounds (req/s, tegami/bare): ${t.rounds.map((r, i) => `${r.rps}/${b.rounds[i].rps}`).join(' ')}`);
const dueP99 = fixed.due ? `; from when each was due ${fixed.due.p99.toFixed(1)} ms (bare ${bareFixed.due?.p99.toFixed(1)})` : '';
console.log(`ratio tegami/bare = ${(t.rps / b.rps).toFixed(2)} (target >= 0.5, ${ROUNDS} interleaved rounds of ${roundSeconds} s); p99 at 1,000 req/s = ${Number(fixed.p99).toFixed(1)} ms (target <= 10; bare ${Number(bareFixed.p99).toFixed(1)})${dueP99}; suppressions committed: ${committedMain} by ${t.total} POSTs${t.replayed ? ` (${t.replayed} of them replays: a round's list wrapped; raise --tokens)` : ''}, ${committed - afterRounds} by ${fixed.total} at the fixed rate`);
console.log(`during the fixed-rate run: server-side latency (request arrival to reply end) p50 ${gcStats.serverP50Ms.toFixed(2)} ms, p99 ${gcStats.serverP99Ms.toFixed(2)} ms, max ${gcStats.serverMaxMs.toFixed(1)} ms; event-loop delay p99 ${gcStats.loopDelayP99Ms.toFixed(1)} ms, max ${gcStats.loopDelayMaxMs.toFixed(1)} ms; GC ${gcStats.minor} minor (max ${gcStats.minorMaxMs.toFixed(1)} ms), ${gcStats.major} major (max ${gcStats.majorMaxMs.toFixed(1)} ms), ${gcStats.pausesOver5ms} pauses > 5 ms`);
writeResult('unsubscribe', { seconds: SECONDS, rounds: ROUNDS, roundSeconds, loadgen: LOADGEN, tegami: t, bare: b, fixedRate1000: { ...fixed, server: gcStats }, bareFixedRate1000: bareFixed, ratio: t.rps / b.rps, committedMain, committedFixed: committed - afterRounds });
