/**
 * bench/send: an N-recipient campaign (default 100,000) on SQLite sent by one worker to a
 * loopback smtp-server, end to end (planning, suppression checks, render, RSA+Ed25519 DKIM,
 * SMTP, durable logging), beside in the same run (a) a naive loop of nodemailer MailComposer +
 * nodemailer RSA DKIM + SMTP pool over the same recipients and (b) `openssl speed rsa2048`.
 * Run: npx tsx bench/send.ts [--rows N] [--naive N]
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { runPool } from '../src/send/pool.js';
import { arg, peakRss, printTable, writeResult } from './lib.js';
import { childSink } from './sink.js';

const N = arg('rows', 100_000);
const NAIVE = arg('naive', Math.min(N, 20_000));
const HTML = `<html><body><h1>Hello {{ first }}</h1>${'<p>Our November newsletter with product news, events and offers for you. '.repeat(40)}</p>`
  + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>';

async function tegami(sinkPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-send-'));
  const config = defaultConfig();
  Object.assign(config.database, { url: `sqlite:${join(dir, 'tegami.db')}` });
  config.http.publicUrl = 'https://mail.bench.example';
  config.transport.kind = 'smtp';
  Object.assign(config.transport.smtp, { host: '127.0.0.1', port: sinkPort, requireTls: false, maxConnections: 10 });
  Object.assign(config.worker, { batchSize: 500, concurrency: 50, renderThreads: arg('threads', config.worker.renderThreads) });
  const app = await createApp(config, ['worker'], { log: pino({ level: 'warn' }), masterKey: Buffer.alloc(32, 7), startLoops: false, listen: false });
  const { core, deps } = app;
  const acc = await core.accounts.createAccount('bench');
  await core.domains.addDomain(acc.id, 'bench.example');
  const list = await core.lists.create(acc.id, { name: 'all' });
  const db = deps.store.db;
  const now = Date.now();
  for (let i = 0; i < N; i += 1000) {
    const rows = await db.insertInto('contacts').values(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
      account_id: acc.id, address: `u${i + j}@rcpt${(i + j) % 50}.example`, address_key: `u${i + j}@rcpt${(i + j) % 50}.example`,
      attributes: JSON.stringify({ first: `Name${i + j}` }), created_at: now, updated_at: now,
    }))).returning('id').execute();
    await db.insertInto('subscriptions').values(rows.map((r) => ({
      account_id: acc.id, list_id: list.id, contact_id: Number(r.id), status: 'subscribed', consent_source: 'bench', consent_at: now,
      consent_ip: null, confirmed_at: now, unsubscribed_at: null, created_at: now, updated_at: now,
    }))).execute();
  }
  // 1 % suppressed, so the checks do real work.
  await core.suppressions.add(acc.id, Array.from({ length: Math.floor(N / 100) }, (_, k) => ({ address: `u${k * 100}@rcpt${(k * 100) % 50}.example`, scope: 'account' as const, reason: 'manual' })), { source: 'bench' });
  const c = await core.campaigns.create(acc.id, { name: 'bench', list_ids: [list.id], from: 'News <news@bench.example>', subject: 'News for {{ first }}', html: HTML });
  const stop = peakRss();
  const t0 = performance.now();
  await core.campaigns.schedule(acc.id, c.id);
  await app.sending!.drain();
  const secs = (performance.now() - t0) / 1000;
  const rss = stop();
  const p = await core.campaigns.progress(acc.id, c.id);
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
  return { secs, rss, sent: p.sent, skipped: p.skipped };
}

async function naive(sinkPort: number) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const transport = nodemailer.createTransport({
    pool: true, host: '127.0.0.1', port: sinkPort, maxConnections: 10, maxMessages: 1_000_000, ignoreTLS: true,
    dkim: { domainName: 'bench.example', keySelector: 's1', privateKey: pem },
  } as never);
  const html = HTML.replace('{{ unsubscribe_url }}', 'https://mail.bench.example/u/x');
  const idx = Array.from({ length: NAIVE }, (_, i) => i);
  const stop = peakRss();
  const t0 = performance.now();
  await runPool(idx, 50, (i) => transport.sendMail({ from: 'News <news@bench.example>', to: `u${i}@rcpt${i % 50}.example`, subject: `News for Name${i}`, html: html.replace('{{ first }}', `Name${i}`) }));
  const secs = (performance.now() - t0) / 1000;
  transport.close();
  return { secs, rss: stop() };
}

function openssl(): number {
  const out = execFileSync('openssl', ['speed', '-seconds', '3', 'rsa2048'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const line = out.split('\n').find((l) => /^rsa\s+2048/.test(l.trim()))!;
  return Number(line.trim().split(/\s+/)[5]);
}

const only = process.argv.includes('--only-tegami');
const sink = await childSink();
const t = await tegami(sink.port);
if (only) { console.log(t, (t.sent + t.skipped) / t.secs); await sink.close(); process.exit(0); }
const n = await naive(sink.port);
const received = await sink.count();
if (received !== t.sent + NAIVE) throw new Error(`the sink received ${received}, expected ${t.sent + NAIVE}`);
const rsa = openssl();
await sink.close();
const tRate = (t.sent + t.skipped) / t.secs;
const nRate = NAIVE / n.secs;
printTable([
  { run: 'tegami campaign end to end (1 worker, SQLite, RSA+Ed25519)', messages: t.sent + t.skipped, seconds: t.secs.toFixed(1), 'msgs/s': Math.round(tRate), 'peak RSS MB': t.rss },
  { run: 'baseline (a): naive MailComposer + nodemailer RSA DKIM + pool', messages: NAIVE, seconds: n.secs.toFixed(1), 'msgs/s': Math.round(nRate), 'peak RSS MB': n.rss },
  { run: 'baseline (b): openssl speed rsa2048 (sign/s, 1 core)', messages: '-', seconds: 3, 'msgs/s': Math.round(rsa), 'peak RSS MB': '-' },
]);
console.log(`tegami / naive = ${(tRate / nRate).toFixed(2)} (target >= 1.5); tegami / openssl rsa2048 = ${(tRate / rsa * 100).toFixed(0)} % (target >= 35 %)`);
writeResult(`send-${N}`, { rows: N, tegami: { ...t, msgsPerSec: tRate }, naive: { messages: NAIVE, seconds: n.secs, msgsPerSec: nRate, peakRssMb: n.rss }, opensslRsa2048SignPerSec: rsa, ratioNaive: tRate / nRate, ratioOpenssl: tRate / rsa });
