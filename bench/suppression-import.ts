/**
 * bench/suppression-import: a generated N-row suppression CSV (default 1,000,000) imported into
 * the ledger on SQLite (validation, canonical keys, history, pending-mail check, batches of
 * 1,000), beside a raw better-sqlite3 insert of the same rows. Run: npx tsx bench/suppression-import.ts [--rows N]
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { defaultConfig } from '../src/config/defaults.js';
import { systemClock } from '../src/domain/clock.js';
import { createCore } from '../src/core/index.js';
import { importSuppressionsCsv } from '../src/core/suppressions-csv.js';
import { openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { arg, peakRss, printTable, writeResult } from './lib.js';

const N = arg('rows', 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-supp-'));
const file = join(dir, 'suppressions.csv');
const out = createWriteStream(file);
out.write('address,scope,reason,note\n');
for (let i = 0; i < N; i++) if (!out.write(`s${i}@supp${i % 89}.example.jp,account,${i % 3 ? 'hard_bounce' : 'unsubscribe'},\n`)) await once(out, 'drain');
out.end();
await once(out, 'finish');

const store = openDb({ url: `sqlite:${join(dir, 'tegami.db')}` });
await migrate(store);
const core = createCore({ store, clock: systemClock, log: pino({ level: 'silent' }), config: defaultConfig(), masterKey: Buffer.alloc(32, 2) });
const acc = await core.accounts.createAccount('bench');
let stop = peakRss();
let t0 = performance.now();
const s = await importSuppressionsCsv(core.suppressions, acc.id, createReadStream(file), { source: 'bench' });
const tSecs = (performance.now() - t0) / 1000;
const tRss = stop();
await store.close();
if (s.added !== N) throw new Error(`expected ${N} added, got ${s.added}`);

const raw = new Database(join(dir, 'raw.db'));
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = NORMAL');
raw.exec("create table suppressions (id integer primary key autoincrement, account_id text not null, address_key text not null, scope text not null, list_id text not null default '', reason text not null, source text not null, note text, ip text, user_agent text, created_at integer not null, unique(account_id, address_key, scope, list_id))");
const ins = raw.prepare("insert into suppressions (account_id, address_key, scope, reason, source, created_at) values (?, ?, 'account', ?, 'bench', ?)");
const batch = raw.transaction((from: number, to: number) => {
  for (let i = from; i < to; i++) ins.run('acc', `s${i}@supp${i % 89}.example.jp`, i % 3 ? 'hard_bounce' : 'unsubscribe', Date.now());
});
stop = peakRss();
t0 = performance.now();
for (let i = 0; i < N; i += 1000) batch(i, Math.min(N, i + 1000));
const rSecs = (performance.now() - t0) / 1000;
const rRss = stop();
raw.close();
rmSync(dir, { recursive: true, force: true });

printTable([
  { run: 'tegami importSuppressionsCsv (parse, validate, ledger + history)', rows: N, seconds: tSecs.toFixed(1), 'rows/s': Math.round(N / tSecs), 'peak RSS MB': tRss },
  { run: 'baseline: raw better-sqlite3 insert (no parse, no history)', rows: N, seconds: rSecs.toFixed(1), 'rows/s': Math.round(N / rSecs), 'peak RSS MB': rRss },
]);
console.log(`ratio tegami/raw = ${(rSecs / tSecs).toFixed(2)} (target >= 0.8)`);
writeResult('suppression-import', { rows: N, tegami: { seconds: tSecs, peakRssMb: tRss }, raw: { seconds: rSecs, peakRssMb: rRss }, ratio: rSecs / tSecs });
