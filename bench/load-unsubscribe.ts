/**
 * bench/load-unsubscribe (issue 11 item 3): sustained one-click POSTs (default 60 s, 50
 * connections, every POST a new recipient) against the real app, reporting errors (target 0),
 * lost writes (replies 200 whose suppression row is not in the ledger afterwards; target 0) and
 * latency percentiles; baseline: a bare Fastify POST route under the same load for the same time.
 * Run: npx tsx bench/load-unsubscribe.ts [--seconds 60] [--connections 50] [--pg]
 * (--pg: PostgreSQL at TEGAMI_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test, in a
 * fresh schema dropped afterwards; otherwise a SQLite file.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { openDb } from '../src/store/db.js';
import { arg, dropPgSchema, printTable, writeResult } from './lib.js';

const SECONDS = arg('seconds', 60);
const CONNECTIONS = arg('connections', 50);
const USE_PG = process.argv.includes('--pg');
const PG_URL = process.env.TEGAMI_BENCH_PG_URL ?? process.env.TEGAMI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BODY = 'List-Unsubscribe=One-Click';
const HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

/** Latency and error figures of one autocannon run (from a worker thread). */
async function load(url: string, pathsFile: string) {
  process.env.TEGAMI_BENCH_PATHS = pathsFile; // read by bench/unsubscribe-setup.cjs in autocannon's worker
  const r = await autocannon({
    url, duration: SECONDS, connections: CONNECTIONS, method: 'POST', body: BODY, headers: HEADERS, workers: 1,
    requests: [{ setupRequest: new URL('./unsubscribe-setup.cjs', import.meta.url).pathname }],
  } as never) as any;
  return {
    requests: r.requests.total as number, ok: r['2xx'] as number, rps: r.requests.average as number,
    errors: (r.errors as number) + (r.non2xx as number) + (r.timeouts as number),
    p50: r.latency.p50 as number, p90: r.latency.p90 as number, p99: r.latency.p99 as number, p999: r.latency.p99_9 as number, max: r.latency.max as number,
  };
}

/** Runs the load test; returns the figures (used by bench/run-all). */
export async function runLoadUnsubscribe() {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-load-unsub-'));
  const schema = `bench_unsub_${randomBytes(4).toString('hex')}`;
  if (USE_PG) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  const config = defaultConfig();
  config.database.url = USE_PG ? PG_URL : `sqlite:${join(dir, 'tegami.db')}`;
  Object.assign(config.http, { port: 0, publicUrl: 'https://mail.bench.example' });
  const masterKey = Buffer.alloc(32, 5);
  const store = USE_PG ? openDb({ url: PG_URL, schema, poolSize: 10 }) : undefined;
  const app = await createApp(config, ['api'], { log: pino({ level: 'silent' }), masterKey, store });
  const acc = await app.core.accounts.createAccount('bench');
  const list = await app.core.lists.create(acc.id, { name: 'news' });
  const db = app.deps.store.db;
  // Distinct recipients, walked in order: every tegami POST is a new ledger row until the list
  // wraps (then replays are idempotent and the lost-write count uses the distinct tokens).
  const tokens = arg('tokens', Math.max(50_000, SECONDS * 6_000));
  const pathsFile = join(dir, 'paths.txt');
  {
    const now = Date.now();
    const keys = tokenKeys(masterKey);
    const paths: string[] = [];
    for (let i = 0; i < tokens; i += 1000) {
      const rows = await db.insertInto('contacts').values(Array.from({ length: Math.min(1000, tokens - i) }, (_, j) => ({
        account_id: acc.id, address: `l${i + j}@bench.example`, address_key: `l${i + j}@bench.example`, attributes: '{}', created_at: now, updated_at: now,
      }))).returning('id').execute();
      for (const r of rows) paths.push(`/u/${createUnsubscribeToken(keys, { accountId: acc.id, listId: list.id, subject: 'c', subjectId: Number(r.id), issuedAt: 1 })}`);
    }
    writeFileSync(pathsFile, paths.join('\n'));
  }
  const bare = Fastify({ routerOptions: { maxParamLength: 500 } });
  bare.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_r, body, done) => done(null, body));
  bare.post('/u/:token', async () => 'Unsubscribed\n');
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

  const b = await load(bareUrl, pathsFile);
  const t = await load(app.url!, pathsFile);
  // Let requests still in flight at the end of the run commit, then count what is durable.
  await new Promise((r) => setTimeout(r, 1000));
  const rows = Number((await db.selectFrom('suppressions').select((e) => e.fn.countAll().as('n')).where('account_id', '=', acc.id).executeTakeFirstOrThrow()).n);
  const wrapped = t.requests > tokens;
  await bare.close();
  await app.stop();
  if (store) {
    await store.close();
    await dropPgSchema(PG_URL, schema);
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    seconds: SECONDS, connections: CONNECTIONS, database: USE_PG ? 'postgres' : 'sqlite', tokens, wrapped,
    tegami: t, bare: b, ratio: t.rps / b.rps, rowsCommitted: rows, lostWrites: Math.max(0, Math.min(t.ok, tokens) - rows), loadavg: loadavg(),
  };
}

if (process.argv[1]?.endsWith('load-unsubscribe.ts')) {
  const r = await runLoadUnsubscribe();
  const row = (name: string, x: typeof r.tegami) => ({
    run: name, seconds: SECONDS, requests: x.requests, 'req/s': Math.round(x.rps), errors: x.errors,
    'p50 ms': x.p50, 'p90 ms': x.p90, 'p99 ms': x.p99, 'p99.9 ms': x.p999, 'max ms': x.max,
  });
  printTable([row(`tegami one-click POST (${r.database}, commit before reply)`, r.tegami), row('baseline: bare Fastify POST route', r.bare)]);
  console.log(`errors ${r.tegami.errors} (target 0); replies 200: ${r.tegami.ok}, suppression rows committed: ${r.rowsCommitted}, lost writes: ${r.lostWrites}${r.wrapped ? ' (token list wrapped: counted over distinct tokens)' : ''} (target 0); tegami/bare = ${r.ratio.toFixed(2)}; load average ${r.loadavg.map((l) => l.toFixed(1)).join(' ')}`);
  writeResult(`load-unsubscribe${USE_PG ? '-pg' : ''}`, r);
}
