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
 * messages that the entries this import added block, with an event each (R-UNSUB-9). `json` is the
 * batch's rows ([key, ...]); the probe is one indexed lookup per row, and only when it finds pending
 * mail are the import's entries for those keys read, so a batch without pending mail costs one
 * statement. Same effect as skipPendingFor over the inserted rows.
 */
export function skipPendingForImportSqlite(sq: Database.Database, accountId: string, importId: string, json: string, now: number): number {
  const pending = stmt(sq, `select distinct m.id, m.campaign_id, m.rcpt_key, m.category, m.list_id
    from json_each(?) j join messages m on m.account_id = ? and m.rcpt_key = j.value->>0 where m.status in (${PENDING_SQL})`)
    .all(json, accountId) as Array<{ id: number; campaign_id: string | null; rcpt_key: string; category: string; list_id: string | null }>;
  if (!pending.length) return 0;
  const keys = [...new Set(pending.map((m) => m.rcpt_key))];
  const entries = stmt(sq, `select address_key, scope, list_id, reason from suppressions
    where account_id = ? and import_id = ? and address_key in (select value from json_each(?))`).all(accountId, importId, JSON.stringify(keys)) as Array<{ address_key: string; scope: string; list_id: string; reason: string }>;
  const byKey = new Map<string, typeof entries>();
  for (const e of entries) byKey.set(e.address_key, [...(byKey.get(e.address_key) ?? []), e]);
  const hits = blockedHits(pending, (m) => byKey.get(m.rcpt_key));
  applySkipsSqlite(sq, hits.map((h) => ({ ...h, m: { ...h.m, account_id: accountId } })), now);
  return hits.length;
}

/**
 * SQLite, inside the caller's raw transaction: marks each blocked pending message skipped with
 * its reason and writes its `skipped` event (R-UNSUB-9). Shared by the CSV import and one-click.
 */
export function applySkipsSqlite(sq: Database.Database, hits: Array<{ m: PendingMessage & { account_id: string }; reason: string }>, now: number): void {
  for (const h of hits) {
    stmt(sq, `update messages set status = 'skipped', reason = ?, updated_at = ? where id = ? and status in (${PENDING_SQL})`).run(h.reason, now, h.m.id);
    stmt(sq, `insert into events (account_id, message_id, campaign_id, type, data, created_at) values (?, ?, ?, 'skipped', ?, ?)`)
      .run(h.m.account_id, h.m.id, h.m.campaign_id, skipEventData(h.reason), now);
  }
}
