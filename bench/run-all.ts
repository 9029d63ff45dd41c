/**
 * bench/run-all (issue 11 item 4): runs every benchmark with its baseline, each in its own
 * child process one after another, then prints one table (figure, baseline, ratio, target) and
 * writes bench/results.json. Each benchmark also keeps its own bench/results/<name>.json.
 * Run: bench/run-all [--quick] [--only send,scale,…] [--skip relay,…]
 * --quick uses small sizes (minutes, for a smoke run); the default uses the issues' sizes.
 * Needs PostgreSQL for scale (TEGAMI_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 * and openssl; relay (issue 7's Postfix comparison) runs only when bench/relay.ts exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { printTable } from './lib.js';

const QUICK = process.argv.includes('--quick');
const list = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1].split(',') : null;
};
const ONLY = list('--only');
const SKIP = list('--skip') ?? [];
const ROOT = new URL('..', import.meta.url).pathname;
const SEND_ROWS = QUICK ? 10_000 : 100_000;

/** One benchmark: its script, arguments (full / quick) and how to read its result file. */
interface Bench { name: string; script: string; args: string[]; quick: string[]; result: string; rows: (r: any) => Row[] }
/** A line of the summary table. */
interface Row { bench: string; figure: string; value: string; baseline: string; ratio: string; target: string; met: string }

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f2 = (n: number) => n.toFixed(2);
const row = (bench: string, figure: string, value: string, baseline: string, ratio: string, target: string, met: boolean | null): Row =>
  ({ bench, figure, value, baseline, ratio, target, met: met === null ? '-' : met ? 'yes' : 'NO' });

const BENCHES: Bench[] = [
  {
    name: 'import', script: 'bench/import.ts', args: ['--rows', '1000000'], quick: ['--rows', '100000'], result: 'import',
    rows: (r) => [
      row('import', `contacts CSV rows/s (${f0(r.rows)} rows)`, f0(r.tegami.rowsPerSec), `${f0(r.raw.rowsPerSec)} raw insert`, f2(r.tegami.rowsPerSec / r.raw.rowsPerSec), 'none set (issue 2)', null),
      row('import', 'peak RSS MB', String(r.tegami.peakRssMb), `${r.raw.peakRssMb} raw`, f2(r.tegami.peakRssMb / r.raw.peakRssMb), 'flat memory', null),
    ],
  },
  {
    name: 'send', script: 'bench/send.ts', args: ['--rows', String(SEND_ROWS)], quick: ['--rows', String(SEND_ROWS), '--naive', '5000'], result: `send-${SEND_ROWS}`,
    rows: (r) => [
      row('send', `campaign msgs/s end to end (${f0(r.rows)})`, f0(r.tegami.msgsPerSec), `${f0(r.naive.msgsPerSec)} naive nodemailer`, f2(r.ratioNaive), '>= 1.5', r.ratioNaive >= 1.5),
      row('send', 'msgs/s vs openssl rsa2048 sign/s', f0(r.tegami.msgsPerSec), `${f0(r.opensslRsa2048SignPerSec)} sign/s`, f2(r.ratioOpenssl), '>= 0.35', r.ratioOpenssl >= 0.35),
      row('send', 'peak RSS MB', String(r.tegami.rss), '-', '-', '<= 150', r.tegami.rss <= 150),
    ],
  },
  {
    name: 'unsubscribe', script: 'bench/unsubscribe.ts', args: ['--seconds', '10'], quick: ['--seconds', '5'], result: 'unsubscribe',
    rows: (r) => [
      row('unsubscribe', 'one-click POST req/s', f0(r.tegami.rps), `${f0(r.bare.rps)} bare Fastify`, f2(r.ratio), '>= 0.5', r.ratio >= 0.5),
      row('unsubscribe', 'p99 ms at a steady 1,000 req/s', r.fixedRate1000.p99.toFixed(1), `${r.bareFixedRate1000.p99.toFixed(1)} bare Fastify`, '-', '<= 10', r.fixedRate1000.p99 <= 10),
    ],
  },
  {
    name: 'suppression-import', script: 'bench/suppression-import.ts', args: ['--rows', '1000000'], quick: ['--rows', '100000'], result: 'suppression-import',
    rows: (r) => [row('suppression-import', `CSV import seconds (${f0(r.rows)} rows)`, f2(r.tegami.seconds), `${f2(r.raw.seconds)} raw insert`, f2(r.ratio), '>= 0.8 (speed vs raw)', r.ratio >= 0.8)],
  },
  {
    name: 'relay', script: 'bench/relay.ts', args: [], quick: ['--messages', '1000'], result: 'relay',
    rows: (r) => [row('relay', `relay msgs/s vs Postfix + OpenDKIM (${f0(r.messages ?? 0)} msgs)`, r.tegami?.msgsPerSec ? f0(r.tegami.msgsPerSec) : '?',
      r.postfixOpendkim?.msgsPerSec ? `${f0(r.postfixOpendkim.msgsPerSec)} Postfix+OpenDKIM` : '?',
      typeof r.ratio === 'number' ? f2(r.ratio) : '?', '>= 1.0', typeof r.ratio === 'number' ? r.ratio >= 1 : null)],
  },
  {
    name: 'load-unsubscribe', script: 'bench/load-unsubscribe.ts', args: ['--seconds', '60'], quick: ['--seconds', '10'], result: 'load-unsubscribe',
    rows: (r) => [
      row('load-unsubscribe', `${r.seconds} s one-click POSTs, req/s`, f0(r.tegami.rps), `${f0(r.bare.rps)} bare Fastify`, f2(r.ratio), '-', null),
      row('load-unsubscribe', 'errors', String(r.tegami.errors), String(r.bare.errors), '-', '0', r.tegami.errors === 0),
      row('load-unsubscribe', 'lost writes (200 without a ledger row)', String(r.lostWrites), '-', '-', '0', r.lostWrites === 0),
      row('load-unsubscribe', 'latency p50 / p99 / max ms', `${r.tegami.p50} / ${r.tegami.p99} / ${r.tegami.max}`, `${r.bare.p50} / ${r.bare.p99} / ${r.bare.max}`, '-', 'report', null),
    ],
  },
  {
    name: 'load-relay', script: 'bench/load-relay.ts', args: ['--sessions', '200', '--seconds', '30'], quick: ['--sessions', '200', '--seconds', '10'], result: 'load-relay',
    rows: (r) => [
      row('load-relay', `${r.sessions} concurrent relay sessions, msgs/s`, f0(r.tegami.msgsPerSec), `${f0(r.bare.msgsPerSec)} bare smtp-server`, f2(r.ratio), '-', null),
      row('load-relay', 'errors', String(r.tegami.errors), String(r.bare.errors), '-', '0', r.tegami.errors === 0),
      row('load-relay', 'lost writes (250 without a message row)', String(r.lostWrites), '-', '-', '0', r.lostWrites === 0),
      row('load-relay', 'latency p50 / p99 / max ms', `${r.tegami.p50} / ${r.tegami.p99} / ${r.tegami.max}`, `${r.bare.p50} / ${r.bare.p99} / ${r.bare.max}`, '-', 'report', null),
    ],
  },
  {
    name: 'scale', script: 'bench/scale.ts', args: ['--rows', '20000', '--repeat', '2'], quick: ['--rows', '5000'], result: 'scale',
    rows: (r) => [
      row('scale', `2 worker processes vs 1, PostgreSQL, msgs/s (${f0(r.rows)})`, f0(r.two.msgsPerSec), `${f0(r.one.msgsPerSec)} one worker`, f2(r.ratio), '>= 1.6', r.ratio >= 1.6),
      row('scale', 'ceiling here: pair factor / one worker run\'s busy cores', `${f2(r.pairFactor)} / ${f2(r.one.machineBusyCores)}`, '-', f2(r.ceiling), 'report (the 1.6 target needs it >= 1.6)', null),
      row('scale', 'duplicates / missing at the sink', `${r.duplicates} / ${r.missing}`, '-', '-', '0 / 0', r.duplicates === 0 && r.missing === 0),
    ],
  },
];

const started = new Date().toISOString();
const results: Record<string, unknown> = {};
const table: Row[] = [];
for (const b of BENCHES) {
  if ((ONLY && !ONLY.includes(b.name)) || SKIP.includes(b.name)) continue;
  if (!existsSync(`${ROOT}${b.script}`)) {
    table.push(row(b.name, `${b.script} not present`, '-', '-', '-', '-', null));
    continue;
  }
  const args = QUICK ? b.quick : b.args;
  console.log(`\n=== ${b.name}: npx tsx ${b.script} ${args.join(' ')} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  const t0 = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', b.script, ...args], { cwd: ROOT, stdio: 'inherit' });
  const file = `${ROOT}bench/results/${b.result}.json`;
  let r: { at?: string } | null = null;
  try { r = JSON.parse(readFileSync(file, 'utf8')); } catch { r = null; }
  const fresh = r?.at && Date.parse(r.at) >= t0 - 1000;
  if (run.status !== 0 || !r || !fresh) {
    table.push(row(b.name, `FAILED (exit ${run.status ?? run.signal})`, '-', '-', '-', '-', false));
    results[b.name] = { failed: true, exit: run.status ?? run.signal };
    continue;
  }
  results[b.name] = r;
  try { table.push(...b.rows(r)); } catch (err) { table.push(row(b.name, `unreadable result: ${(err as Error).message}`, '-', '-', '-', '-', null)); }
}

console.log(`\n=== summary (${QUICK ? 'quick sizes' : 'full sizes'}; ${cpus().length} cores; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
printTable(table.map((x) => ({ benchmark: x.bench, figure: x.figure, value: x.value, baseline: x.baseline, ratio: x.ratio, target: x.target, met: x.met })));
writeFileSync(`${ROOT}bench/results.json`, JSON.stringify({
  started, finished: new Date().toISOString(), node: process.version, cores: cpus().length, cpu: cpus()[0]?.model, quick: QUICK,
  loadavgAtEnd: loadavg(), table, results,
}, null, 2) + '\n');
console.log('wrote bench/results.json');
