import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { Db } from './db.js';
import { blocks } from '../domain/suppression-rules.js';
import { stmt } from './sqlite-fast.js';

/** Message states that have not been transmitted yet (the ones a new suppression skips). */
export const PENDING = ['queued', 'deferred', 'paused'];

/** A pending message as the skip reads it. */
export interface PendingMessage { id: number | bigint; account_id?: string; campaign_id: string | null; rcpt_key: string; category: string; list_id: string | null }

/** The pending messages that the new entries block, each with its skip reason (`suppressed:<reason>`). */
export function blockedHits<M extends PendingMessage>(rows: M[], entriesOf: (m: M) => Array<{ scope: string; list_id: string; reason: string }> | undefined) {
  return rows.flatMap((m) => {
    const e = entriesOf(m)?.find((x) => blocks(x, { category: m.category as 'subscription' | 'transactional', listId: m.list_id }));
    return e ? [{ m, reason: `suppressed:${e.reason}` }] : [];
  });
}

/** The skip event's data (also read by the unsubscribe stats). */
export const skipEventData = (reason: string) => JSON.stringify({ reason, at: 'suppression' });
const CHUNK = 5000;

/**
 * A list of values as one JSON parameter, usable after `in`: one constant statement per chunk
 * instead of thousands of bound variables (SQLite allows 32,766 per statement).
 */
function jsonList(store: Db, values: string[] | number[]) {
  const json = JSON.stringify(values);
  if (store.dialect === 'sqlite') return sql<never>`(select value from json_each(${json}))`;
  return typeof values[0] === 'number'
    ? sql<never>`(select jsonb_array_elements(${json}::jsonb)::bigint)`
    : sql<never>`(select jsonb_array_elements_text(${json}::jsonb))`;
}

/**
 * Skips the not-yet-transmitted messages that new ledger entries block, with an event each, in
 * the caller's transaction (R-UNSUB-9: once the unsubscribe returned, nothing more is sent).
 * One query per 5,000 entries, never one per entry.
 */
export async function skipPendingFor(store: Db, accountId: string, entries: Array<{ address_key: string; scope: string; list_id: string; reason: string }>, now: number): Promise<number> {
  const { db } = store;
  let skipped = 0;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const chunk = entries.slice(i, i + CHUNK);
    const byKey = new Map<string, typeof chunk>();
    for (const e of chunk) byKey.set(e.address_key, [...(byKey.get(e.address_key) ?? []), e]);
    const rows = await db.selectFrom('messages').select(['id', 'campaign_id', 'rcpt_key', 'category', 'list_id']).where('account_id', '=', accountId)
      .where('rcpt_key', 'in', jsonList(store, [...byKey.keys()])).where('status', 'in', PENDING).execute();
    const hits = blockedHits(rows, (m) => byKey.get(m.rcpt_key));
    for (const reason of new Set(hits.map((h) => h.reason))) {
      const ids = hits.filter((h) => h.reason === reason).map((h) => Number(h.m.id));
      await db.updateTable('messages').set({ status: 'skipped', reason, updated_at: now })
        .where('id', 'in', jsonList(store, ids)).where('status', 'in', PENDING).execute();
    }
    // 1,000 rows x 6 columns per statement stays under SQLite's bound-variable limit.
    for (let j = 0; j < hits.length; j += 1000) {
      await db.insertInto('events').values(hits.slice(j, j + 1000).map((h) => ({
        account_id: accountId, message_id: h.m.id, campaign_id: h.m.campaign_id, type: 'skipped', data: skipEventData(h.reason), created_at: now,
      }))).execute();
    }
    skipped += hits.length;
  }
  return skipped;
}

/** PENDING as an SQL list literal (constant text, so statements can be cached). */
export const PENDING_SQL = PENDING.map((s) => `'${s}'`).join(', ');

/**
 * SQLite, inside the caller's raw transaction (the CSV import's batches): skips the pending
 * messages that the entries this batch added block, with an event each (R-UNSUB-9). The batch's
 * new entries are this account's and import's rows with an id above `afterId` (the largest id
 * before its insert): one statement reads them by rowid range and looks each key up in the
 * messages index (CROSS JOIN keeps that order whatever the tables' sizes; the unary + keeps SQLite
 * off the account's whole ledger through an index), so a batch without pending mail costs one
 * indexed probe per new entry and no JSON, and none at all while no mail is pending (the
 * messages_due index answers that). Same effect as skipPendingFor over the inserted rows.
 */
export function skipPendingForImportSqlite(sq: Database.Database, accountId: string, importId: string, afterId: number, now: number): number {
  // No pending mail at all (a few index seeks): nothing to look up per entry.
  if (!stmt(sq, `select 1 from messages where status in (${PENDING_SQL}) limit 1`).get()) return 0;
  const rows = stmt(sq, `select m.id, m.campaign_id, m.rcpt_key, m.category, m.list_id, s.scope as e_scope, s.list_id as e_list, s.reason as e_reason
    from suppressions s cross join messages m
    where s.id > ? and +s.account_id = ? and +s.import_id = ? and m.account_id = s.account_id and m.rcpt_key = s.address_key and m.status in (${PENDING_SQL})`)
    .all(afterId, accountId, importId) as Array<PendingMessage & { id: number; e_scope: string; e_list: string; e_reason: string }>;
  if (!rows.length) return 0;
  const byKey = new Map<string, Array<{ scope: string; list_id: string; reason: string }>>();
  const pending = new Map<number, PendingMessage & { id: number }>();
  // One row per (pending message, new entry for its key): regroup into entries per key and messages.
  for (const r of rows) {
    const entries = byKey.get(r.rcpt_key) ?? [];
    if (!entries.some((e) => e.scope === r.e_scope && e.list_id === r.e_list)) entries.push({ scope: r.e_scope, list_id: r.e_list, reason: r.e_reason });
    byKey.set(r.rcpt_key, entries);
    pending.set(r.id, r);
  }
  const hits = blockedHits([...pending.values()], (m) => byKey.get(m.rcpt_key));
  applySkipsSqlite(sq, hits.map((h) => ({ m: { id: h.m.id, campaign_id: h.m.campaign_id, rcpt_key: h.m.rcpt_key, category: h.m.category, list_id: h.m.list_id, account_id: accountId }, reason: h.reason })), now);
  return hits.length;
}

/**
 * SQLite, inside the caller's raw transaction: marks each blocked pending message skipped with
 * its reason and writes its `skipped` event (R-UNSUB-9). Shared by the CSV import and one-click.
 */
export function applySkipsSqlite(sq: Database.Database, hits: Array<{ m: PendingMessage & { account_id: string }; reason: string }>, now: number): void {
  for (const h of hits) {
    // The event only for a message this update skipped: a message is skipped once, however many
    // new entries (or hits) block it.
    if (!stmt(sq, `update messages set status = 'skipped', reason = ?, updated_at = ? where id = ? and status in (${PENDING_SQL})`).run(h.reason, now, h.m.id).changes) continue;
    stmt(sq, `insert into events (account_id, message_id, campaign_id, type, data, created_at) values (?, ?, ?, 'skipped', ?, ?)`)
      .run(h.m.account_id, h.m.id, h.m.campaign_id, skipEventData(h.reason), now);
  }
}
