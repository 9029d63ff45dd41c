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
import { campaignsRepo, type PlanCandidate } from '../src/store/campaigns-repo.js';
import { arg, printTable, seedSubscribers, writeResult } from './lib.js';

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
await seedSubscribers(db, acc.id, N, [{ id: a.id }, { id: b.id, every: 2 }], (i) => ({ address: `u${i}@plan.example` }));
const repo = campaignsRepo(app.deps.store);

/** The baseline's page: one distinct scan over the lists for the ids, then the same candidate read as tegami's. */
const singleScan = async (listIds: string[], after: number) => repo.planCandidates(acc.id, listIds, (await db.selectFrom('subscriptions')
  .select('contact_id').distinct().where('list_id', 'in', listIds).where('contact_id', '>', after).where('account_id', '=', acc.id)
  .orderBy('contact_id').limit(PAGE).execute()).map((r) => Number(r.contact_id)));
/** tegami's page (planPage: the per-list id ranges merged, then the candidate read). */
const merged = (listIds: string[], after: number) => repo.planPage(acc.id, listIds, after, PAGE);

async function plan(label: string, listIds: string[], page: (l: string[], after: number) => Promise<PlanCandidate[]>) {
  const t0 = performance.now();
  let after = 0;
  let pages = 0;
  let contacts = 0;
  for (;;) {
    const candidates = await page(listIds, after);
    if (!candidates.length || (MAX_PAGES && pages >= MAX_PAGES)) break;
    after = candidates[candidates.length - 1].contact_id;
    pages++;
    contacts += candidates.length;
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
