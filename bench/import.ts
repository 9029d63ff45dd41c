/**
 * bench/import: a generated N-row contact CSV (default 1,000,000) imported into SQLite by
 * tegami's streamed importer, beside a raw better-sqlite3 insert of the same rows in the same
 * run. Run: npx tsx bench/import.ts [--rows N]
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import pino from 'pino';
import { defaultConfig } from '../src/config/defaults.js';
import { systemClock } from '../src/domain/clock.js';
import { createCore } from '../src/core/index.js';
import { openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { arg, peakRss, printTable, writeResult } from './lib.js';

const N = arg('rows', 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-import-'));
const csvFile = join(dir, 'contacts.csv');

async function generate() {
  const out = createWriteStream(csvFile);
  out.write('email,first_name,plan\n');
  for (let i = 0; i < N; i++) {
    if (!out.write(`user${i}@bench${i % 97}.example.jp,Name${i},${i % 3 ? 'free' : 'paid'}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function tegami() {
  const store = openDb({ url: `sqlite:${join(dir, 'tegami.db')}` });
  await migrate(store);
  const config = defaultConfig();
  const deps = { store, clock: systemClock, log: pino({ level: 'silent' }), config, masterKey: Buffer.alloc(32, 1) };
  const core = createCore(deps);
  const acc = await core.accounts.createAccount('bench');
  const list = await core.lists.create(acc.id, { name: 'all' });
  const stop = peakRss();
  const t0 = performance.now();
  const s = await core.contacts.import(acc.id, list.id, createReadStream(csvFile));
  const secs = (performance.now() - t0) / 1000;
  const rss = stop();
  await store.close();
  if (s.accepted !== N) throw new Error(`expected ${N} accepted, got ${s.accepted}`);
  return { secs, rss };
}

function raw() {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table contacts (id integer primary key autoincrement, account_id text not null, address text not null, address_key text not null, attributes text not null, created_at integer, updated_at integer, unique(account_id, address_key))');
  const ins = db.prepare('insert into contacts (account_id, address, address_key, attributes, created_at, updated_at) values (?, ?, ?, ?, ?, ?)');
  const stop = peakRss();
  const t0 = performance.now();
  const batch = db.transaction((from: number, to: number) => {
    const now = Date.now();
    for (let i = from; i < to; i++) {
      const a = `user${i}@bench${i % 97}.example.jp`;
      ins.run('acc', a, a, JSON.stringify({ first_name: `Name${i}`, plan: i % 3 ? 'free' : 'paid' }), now, now);
    }
  });
  for (let i = 0; i < N; i += 1000) batch(i, Math.min(N, i + 1000));
  const secs = (performance.now() - t0) / 1000;
  const rss = stop();
  db.close();
  return { secs, rss };
}

await generate();
// tegami first, so its peak RSS is not inflated by the baseline's pages.
const a = await tegami();
const b = raw();
rmSync(dir, { recursive: true, force: true });
const rows = [
  { run: 'tegami importContacts (parse+validate+upsert+subscribe)', rows: N, seconds: a.secs.toFixed(1), 'rows/s': Math.round(N / a.secs), 'peak RSS MB': a.rss },
  { run: 'baseline: raw better-sqlite3 insert (no parse, no subscriptions)', rows: N, seconds: b.secs.toFixed(1), 'rows/s': Math.round(N / b.secs), 'peak RSS MB': b.rss },
];
printTable(rows);
console.log(`ratio tegami/raw: ${(b.secs / a.secs).toFixed(2)}`);
writeResult('import', { rows: N, tegami: { seconds: a.secs, rowsPerSec: N / a.secs, peakRssMb: a.rss }, raw: { seconds: b.secs, rowsPerSec: N / b.secs, peakRssMb: b.rss }, ratio: b.secs / a.secs });
