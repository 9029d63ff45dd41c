import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../src/store/types.js';

/** Samples RSS every 50 ms; returns a stop function giving the peak in MB. */
export function peakRss(): () => number {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  return () => {
    clearInterval(t);
    peak = Math.max(peak, process.memoryUsage().rss);
    return Math.round(peak / 1024 / 1024);
  };
}

/** Prints rows as an aligned table. */
export function printTable(rows: Array<Record<string, string | number>>): void {
  const cols = Object.keys(rows[0]);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (v: string[]) => v.map((x, i) => x.padEnd(w[i])).join('  ');
  console.log(line(cols));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

/** Writes a result file under bench/results/. */
export function writeResult(name: string, data: unknown): void {
  const file = new URL(`./results/${name}.json`, import.meta.url);
  mkdirSync(dirname(file.pathname), { recursive: true });
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, ...(data as object) }, null, 2) + '\n');
}

/** `--name value` from argv. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

/** One inspector profiler around `fn`, when `flag` is on the command line; writes bench/results/NAME.EXT. */
async function inspected<T>(flag: string, what: string, file: string, domain: 'Profiler' | 'HeapProfiler', start: [string, object?], stop: string, fn: () => Promise<T>): Promise<T> {
  if (!process.argv.includes(flag)) return fn();
  const { Session } = await import('node:inspector/promises');
  const s = new Session();
  s.connect();
  await s.post(`${domain}.enable` as never);
  await s.post(start[0] as never, start[1] as never);
  try {
    return await fn();
  } finally {
    const { profile } = (await s.post(stop as never)) as unknown as { profile: unknown };
    const url = new URL(`./results/${file}`, import.meta.url);
    writeFileSync(url, JSON.stringify(profile));
    s.disconnect();
    console.log(`${what}: ${url.pathname}`);
  }
}

/**
 * With `--profile`, records a CPU profile of this process's main thread while `fn` runs and
 * writes it to bench/results/NAME.cpuprofile (open it in Chrome DevTools); otherwise just runs fn.
 */
export function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return inspected('--profile', 'CPU profile', `${name}.cpuprofile`, 'Profiler', ['Profiler.start'], 'Profiler.stop', fn);
}

/**
 * With `--alloc-profile`, samples where `fn`'s process allocates (V8's sampling heap profiler,
 * one sample per 32 KB) and writes bench/results/NAME.heapprofile (open in Chrome DevTools).
 */
export function allocationProfiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const sampling = { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
  return inspected('--alloc-profile', 'allocation profile', `${name}.heapprofile`, 'HeapProfiler', ['HeapProfiler.startSampling', sampling], 'HeapProfiler.stopSampling', fn);
}

/** Drops a benchmark's private PostgreSQL schema (load-relay, load-unsubscribe, scale). */
export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await c.end();
  }
}

/**
 * A /proc stat file (`/proc/PID/stat`, `/proc/PID/task/TID/stat`): the command name and the
 * user+system CPU seconds, or null once the process is gone (or off Linux).
 */
export function procStat(path: string): { comm: string; cpuSeconds: number } | null {
  try {
    const f = readFileSync(path, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return { comm: f.slice(f.indexOf('(') + 1, f.lastIndexOf(')')), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch { return null; }
}

/**
 * The whole machine's CPU seconds so far from /proc/stat (Linux; null elsewhere): `busy` (user,
 * nice, system, irq, softirq, steal) and `all` (busy + idle + iowait), summed over every core.
 */
export function machineCpu(): { busy: number; all: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    const busy = user + nice + system + irq + softirq + (steal || 0);
    return { busy: busy / 100, all: (busy + idle + iowait) / 100 };
  } catch { return null; }
}

/** A `Key:   N kB` field of a /proc status or smaps_rollup text, in whole MB (0 when absent). */
export function procMb(text: string, key: string): number {
  return Math.round(Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) / 1024);
}

/** CPU seconds so far of each OS thread of this process (Linux; empty elsewhere). */
export function threadCpu(): Array<{ tid: string; main: boolean; comm: string; cpuSeconds: number }> {
  const out: Array<{ tid: string; main: boolean; comm: string; cpuSeconds: number }> = [];
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const st = procStat(`/proc/self/task/${tid}/stat`);
      if (st) out.push({ tid, main: tid === String(process.pid), ...st });
    }
  } catch { /* not Linux */ }
  return out;
}

/**
 * N bench contacts written straight into the store, 1,000 a statement, each subscribed (consent
 * recorded) to every list whose `every` divides its index (default: all of them).
 */
export async function seedSubscribers(db: Kysely<DB>, accountId: string, n: number, lists: Array<{ id: string; every?: number }>,
  contact: (i: number) => { address: string; attributes?: object }): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < n; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => contact(i + j));
    const rows = await db.insertInto('contacts').values(batch.map((c) => ({
      account_id: accountId, address: c.address, address_key: c.address, attributes: JSON.stringify(c.attributes ?? {}), created_at: now, updated_at: now,
    }))).returning('id').execute();
    for (const l of lists) {
      await db.insertInto('subscriptions').values(rows.filter((_, k) => (i + k) % (l.every ?? 1) === 0).map((r) => ({
        account_id: accountId, list_id: l.id, contact_id: Number(r.id), status: 'subscribed', consent_source: 'bench', consent_at: now,
        consent_ip: null, confirmed_at: now, unsubscribed_at: null, created_at: now, updated_at: now,
      }))).execute();
    }
  }
}

/** A child's loop: RSA-2048 signatures (the worker's heaviest step) from epoch ms argv[1] to argv[2]; prints the count. */
const SIGN_LOOP = `const c = require('node:crypto');
const { privateKey } = c.generateKeyPairSync('rsa', { modulusLength: 2048 });
const [from, to] = process.argv.slice(1).map(Number);
setTimeout(() => { let n = 0; const d = Buffer.alloc(64); while (Date.now() < to) { c.sign('sha256', d, privateKey); n++; } process.stdout.write(String(n)); }, from - Date.now());`;

async function signLoops(k: number, seconds: number): Promise<number> {
  const from = Date.now() + 1000;
  const counts = await Promise.all(Array.from({ length: k }, () => new Promise<number>((resolve, reject) => {
    execFile(process.execPath, ['-e', SIGN_LOOP, String(from), String(from + seconds * 1000)], (err, out) => (err ? reject(err) : resolve(Number(out))));
  })));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * How much a second CPU-bound process adds on this machine: RSA signatures a second of two
 * processes at once over one alone (2.0 = two whole cores; shared caches, SMT siblings or a
 * host's other guests make it less). No program can scale past it across two processes.
 */
export async function cpuPairFactor(seconds = 3): Promise<{ alone: number; together: number; factor: number }> {
  const alone = (await signLoops(1, seconds)) / seconds;
  const together = (await signLoops(2, seconds)) / seconds;
  return { alone, together, factor: together / alone };
}
