/**
 * bench/import: a generated N-row contact CSV (default 1,000,000) imported into SQLite by
 * tegami's streamed importer, beside a raw better-sqlite3 insert of the same rows in the same
 * run. Each side runs in its own child process, so each peak RSS is its own.
 * Run: npx tsx bench/import.ts [--rows N]
 */
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pino from 'pino';
import { defaultConfig } from '../src/config/defaults.js';
import { systemClock } from '../src/domain/clock.js';
import { createCore } from '../src/core/index.js';
import { openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { arg, peakRss, printTable, writeResult } from './lib.js';

interface PartResult { secs: number; rss: number; startRss: number; accepted: number }

const N = arg('rows', 1_000_000);
const line = (i: number) => `user${i}@bench${i % 97}.example.jp`;

async function generate(csvFile: string) {
  const out = createWriteStream(csvFile);
  out.write('email,first_name,plan\n');
  for (let i = 0; i < N; i++) {
    if (!out.write(`${line(i)},Name${i},${i % 3 ? 'free' : 'paid'}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** tegami: parse, decode, validate every address, upsert contacts and subscriptions, 1,000 rows per transaction. */
async function tegami(dir: string, csvFile: string): Promise<PartResult> {
  const store = openDb({ url: `sqlite:${join(dir, 'tegami.db')}` });
  await migrate(store);
  const deps = { store, clock: systemClock, log: pino({ level: 'silent' }), config: defaultConfig(), masterKey: Buffer.alloc(32, 1) };
  const core = createCore(deps);
  const acc = await core.accounts.createAccount('bench');
  const list = await core.lists.create(acc.id, { name: 'all' });
  const startRss = Math.round(process.memoryUsage().rss / 1048576);
  const stop = peakRss();
  const t0 = performance.now();
  const s = await core.contacts.import(acc.id, list.id, createReadStream(csvFile, { highWaterMark: 256 * 1024 }));
  const secs = (performance.now() - t0) / 1000;
  const rss = stop();
  await store.close();
  return { secs, rss, startRss, accepted: s.accepted };
}

/** Baseline: the same rows into a contacts table with a prepared statement, one transaction per 1,000 rows. */
function raw(dir: string): PartResult {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table contacts (id integer primary key autoincrement, account_id text not null, address text not null, address_key text not null, attributes text not null, created_at integer, updated_at integer, unique(account_id, address_key))');
  const ins = db.prepare('insert into contacts (account_id, address, address_key, attributes, created_at, updated_at) values (?, ?, ?, ?, ?, ?)');
  const startRss = Math.round(process.memoryUsage().rss / 1048576);
  const stop = peakRss();
  const t0 = performance.now();
  const batch = db.transaction((from: number, to: number) => {
    const now = Date.now();
    for (let i = from; i < to; i++) ins.run('acc', line(i), line(i), JSON.stringify({ first_name: `Name${i}`, plan: i % 3 ? 'free' : 'paid' }), now, now);
  });
  for (let i = 0; i < N; i += 1000) batch(i, Math.min(N, i + 1000));
  const secs = (performance.now() - t0) / 1000;
  const rss = stop();
  const accepted = (db.prepare('select count(*) as n from contacts').get() as { n: number }).n;
  db.close();
  return { secs, rss, startRss, accepted };
}

/** Runs one side in a child process (same tsx loader) and returns its result. */
async function child(part: 'tegami' | 'raw', dir: string, csvFile: string): Promise<PartResult> {
  const cp = fork(fileURLToPath(import.meta.url), ['--part', part, '--dir', dir, '--csv', csvFile, '--rows', String(N)], { execArgv: process.execArgv });
  const [msg] = (await once(cp, 'message')) as [PartResult];
  await once(cp, 'exit');
  return msg;
}

const partIdx = process.argv.indexOf('--part');
if (partIdx > 0) {
  const part = process.argv[partIdx + 1];
  const dir = process.argv[process.argv.indexOf('--dir') + 1];
  const csvFile = process.argv[process.argv.indexOf('--csv') + 1];
  const r = part === 'tegami' ? await tegami(dir, csvFile) : raw(dir);
  process.send!(r, () => process.exit(0));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-import-'));
  const csvFile = join(dir, 'contacts.csv');
  try {
    await generate(csvFile);
    const a = await child('tegami', dir, csvFile);
    const b = await child('raw', dir, csvFile);
    for (const [name, r] of [['tegami', a], ['raw', b]] as const) if (r.accepted !== N) throw new Error(`${name}: expected ${N} rows, got ${r.accepted}`);
    printTable([
      { run: 'tegami importContacts (decode+parse+validate+upsert+subscribe)', rows: N, seconds: a.secs.toFixed(1), 'rows/s': Math.round(N / a.secs), 'RSS at start MB': a.startRss, 'peak RSS MB': a.rss },
      { run: 'baseline: raw better-sqlite3 insert (no parse, no subscriptions)', rows: N, seconds: b.secs.toFixed(1), 'rows/s': Math.round(N / b.secs), 'RSS at start MB': b.startRss, 'peak RSS MB': b.rss },
    ]);
    console.log(`tegami takes ${(a.secs / b.secs).toFixed(1)}x the raw insert time`);
    writeResult('import', {
      rows: N,
      tegami: { seconds: a.secs, rowsPerSec: N / a.secs, startRssMb: a.startRss, peakRssMb: a.rss },
      raw: { seconds: b.secs, rowsPerSec: N / b.secs, startRssMb: b.startRss, peakRssMb: b.rss },
      timeRatioTegamiOverRaw: a.secs / b.secs,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
