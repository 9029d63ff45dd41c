/**
 * bench/plan-pages: planning a campaign over two overlapping lists (N contacts in list A, every
 * other one also in list B) on SQLite, page by page as the planner reads it: tegami's planPage
 * (the next page of each list read in index order, then merged) beside, in the same process and
 * on the same data, the baseline of one `distinct … where list_id in (…) order by contact_id`
 * scan per page (the query before session 7, whose cost grows with what is left of the lists,
 * so the whole plan grows with the square of its size). One list is shown for reference.
 * Run: npx tsx bench/plan-pages.ts [--rows 200000] [--pages 0 (all)]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { campaignsRepo } from '../src/store/campaigns-repo.js';
import { arg, printTable, writeResult } from './lib.js';

const N = arg('rows', 200_000);
const MAX_PAGES = arg('pages', 0);
const PAGE = 1000;
const dir = mkdtempSync(join(tmpdir(), 'tegami-bench-plan-'));
const config = defaultConfig();
config.database.url = `sqlite:${join(dir, 'tegami.db')}`;
const app = await createApp(config, [], { log: pino({ level: 'warn' }), masterKey: Buffer.alloc(32, 5), startLoops: false, listen: false });
const acc = await app.core.accounts.createAccount('bench');
const a = await app.core.lists.create(acc.id, { name: 'a' });
const b = await app.core.lists.create(acc.id, { name: 'b' });
const db = app.deps.store.db;
const now = Date.now();
for (let i = 0; i < N; i += 1000) {
  const rows = await db.insertInto('contacts').values(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
    account_id: acc.id, address: `u${i + j}@plan.example`, address_key: `u${i + j}@plan.example`, attributes: '{}', created_at: now, updated_at: now,
  }))).returning('id').execute();
  for (const l of [a, b]) {
    await db.insertInto('subscriptions').values(rows.filter((_, k) => l === a || k % 2 === 0).map((r) => ({
      account_id: acc.id, list_id: l.id, contact_id: Number(r.id), status: 'subscribed', consent_source: 'bench', consent_at: now,
      consent_ip: null, confirmed_at: now, unsubscribed_at: null, created_at: now, updated_at: now,
    }))).execute();
  }
}
const repo = campaignsRepo(app.deps.store);

/** The baseline's page of contact ids: one distinct scan over the lists. */
const singleScan = async (listIds: string[], after: number) => (await db.selectFrom('subscriptions').select('contact_id').distinct()
  .where('list_id', 'in', listIds).where('contact_id', '>', after).where('account_id', '=', acc.id)
  .orderBy('contact_id').limit(PAGE).execute()).map((r) => Number(r.contact_id));
/** tegami's page of contact ids (planPage also reads the page's contacts, which the baseline then does too). */
const merged = async (listIds: string[], after: number) => (await repo.planPage(acc.id, listIds, after, PAGE)).map((c) => c.contact_id);

async function plan(label: string, listIds: string[], page: (l: string[], after: number) => Promise<number[]>) {
  const t0 = performance.now();
  let after = 0;
  let pages = 0;
  let contacts = 0;
  for (;;) {
    const ids = await page(listIds, after);
    if (!ids.length || (MAX_PAGES && pages >= MAX_PAGES)) break;
    if (page === singleScan) await repo.planPage(acc.id, listIds, after, PAGE); // the same contact reads as tegami's page
    after = ids[ids.length - 1];
    pages++;
    contacts += ids.length;
  }
  const ms = performance.now() - t0;
  return { run: label, lists: listIds.length, pages, contacts, seconds: +(ms / 1000).toFixed(2), 'ms/page': +(ms / Math.max(1, pages)).toFixed(2) };
}

const results = [
  await plan('tegami planPage, 1 list', [a.id], merged),
  await plan('tegami planPage, 2 lists (per-list pages merged)', [a.id, b.id], merged),
  await plan('baseline: one distinct scan over 2 lists per page', [a.id, b.id], singleScan),
];
printTable(results);
console.log(`2 lists: baseline / tegami = ${(results[2].seconds / results[1].seconds).toFixed(1)}x the time (${N.toLocaleString('en-US')} contacts)`);
writeResult('plan-pages', { rows: N, page: PAGE, results });
await app.stop();
rmSync(dir, { recursive: true, force: true });
