import type Database from 'better-sqlite3';
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Db } from './db.js';
import { escapeLike } from './dialect.js';
import { sqliteTransaction, stmt } from './sqlite-fast.js';
import { skipPendingFor, skipPendingForImportSqlite } from './suppression-effects.js';
import { forEachImportRow, type ImportBatch } from './suppression-import-batch.js';
import type { SuppressionImportTables } from './types-suppression-imports.js';
import type { DB, SuppressionHistoryTable, SuppressionsTable } from './types.js';

const CHUNK = 5000;

/** A ledger entry. */
export type SuppressionRow = Selectable<SuppressionsTable>;

/** A new ledger entry (canonical key already computed); short names keep the JSON parameter small. */
export interface NewEntry { k: string; s: string; l: string; r: string; n: string | null; ip: string | null; ua: string | null }

/** What an add inserted (the send path's skip needs these). */
export interface AddedEntry { address_key: string; scope: string; list_id: string; reason: string }

/**
 * SQLite: the ledger insert returns only the new ids; since SQLite has one writer and ids only
 * grow (AUTOINCREMENT), every row from the smallest new id on is ours, and the history copies them.
 */
async function addSqlite(db: Kysely<DB>, accountId: string, json: string, source: string, now: number): Promise<AddedEntry[]> {
  const ids = (await sql<{ id: number }>`insert into suppressions (account_id, address_key, scope, list_id, reason, source, note, ip, user_agent, created_at)
    select ${accountId}, j.value->>'k', j.value->>'s', j.value->>'l', j.value->>'r', ${source}, j.value->>'n', j.value->>'ip', j.value->>'ua', ${now}
    from json_each(${json}) j where true on conflict do nothing returning id`.execute(db)).rows;
  if (!ids.length) return [];
  const first = ids.reduce((m, r) => Math.min(m, Number(r.id)), Infinity);
  return (await sql<AddedEntry>`insert into suppression_history (account_id, address_key, action, scope, list_id, reason, source, note, ip, user_agent, created_at)
    select account_id, address_key, 'add', scope, list_id, reason, source, note, ip, user_agent, created_at from suppressions where id >= ${first}
    returning address_key, scope, list_id, reason`.execute(db)).rows;
}

/** PostgreSQL: one statement; the history insert reads the ledger insert's RETURNING rows. */
async function addPg(db: Kysely<DB>, accountId: string, json: string, source: string, now: number): Promise<AddedEntry[]> {
  return (await sql<AddedEntry>`with ins as (
      insert into suppressions (account_id, address_key, scope, list_id, reason, source, note, ip, user_agent, created_at)
      select ${accountId}, x.k, x.s, x.l, x.r, ${source}, x.n, x.ip, x.ua, ${now}
      from jsonb_to_recordset(${json}::jsonb) as x(k text, s text, l text, r text, n text, ip text, ua text)
      on conflict do nothing returning *)
    insert into suppression_history (account_id, address_key, action, scope, list_id, reason, source, note, ip, user_agent, created_at)
    select account_id, address_key, 'add', scope, list_id, reason, source, note, ip, user_agent, created_at from ins
    returning address_key, scope, list_id, reason`.execute(db)).rows;
}

/** Rows per statement of the SQLite import insert (5 bound values a row, under SQLite's 32,766). */
const IMPORT_ROWS = 100;
const IMPORT_COLS = 'account_id, address_key, scope, list_id, reason, source, note, created_at, import_id';
const IMPORT_ROW = '(@account, ?, ?, ?, ?, @source, ?, @now, @import)';
// OR IGNORE, not ON CONFLICT DO NOTHING: both skip an existing entry (R-UNSUB-12), but with DO
// NOTHING the NOT NULL checks may still abort a multi-row statement, so SQLite keeps a statement
// journal for it (a temp file written for every page the statement changes: ~10 % of the import's
// CPU). OR IGNORE would also skip a row with a NULL in a NOT NULL column; an ImportBatch has none
// (keys and kinds are strings; the note column takes NULL).
const IMPORT_SQL = `insert or ignore into suppressions (${IMPORT_COLS}) values ${Array(IMPORT_ROWS).fill(IMPORT_ROW).join(', ')}`;
const IMPORT_ONE_SQL = `insert or ignore into suppressions (${IMPORT_COLS}) values ${IMPORT_ROW}`;

/** Adds a batch's counts to its import's audit row (suppression_imports, migration 009). */
const IMPORT_PROGRESS_SQL = 'update suppression_imports set added = added + ?, existing = existing + ?, updated_at = ? where id = ?';

/**
 * SQLite, inside the caller's raw transaction: one batch of an import on cached statements of
 * IMPORT_ROWS rows each (the per-batch values bound once by name; the rest one row at a time).
 * Faster than one statement over the batch as JSON (json_each and ->> per field cost more than
 * binding) and than one statement per row. The new entries are the rows past the largest id
 * before the insert (one writer; AUTOINCREMENT ids only grow): the pending-mail skip reads those.
 */
function importSqlite(sq: Database.Database, accountId: string, importId: string, b: ImportBatch, source: string, now: number): number {
  const named = { account: accountId, source, now, import: importId };
  const before = Number((stmt(sq, 'select coalesce(max(id), 0) as id from suppressions').get() as { id: number }).id);
  const many = stmt(sq, IMPORT_SQL);
  const args: Array<string | null> = new Array(IMPORT_ROWS * 5);
  const { keys, ends, kindOf, kinds } = b;
  let added = 0;
  let start = 0;
  let i = 0;
  for (; i + IMPORT_ROWS <= b.count; i += IMPORT_ROWS) {
    for (let j = 0, o = 0; j < IMPORT_ROWS; j++, o += 5) {
      const end = ends[i + j];
      const kind = kinds[kindOf[i + j]];
      args[o] = keys.slice(start, end);
      args[o + 1] = kind[0];
      args[o + 2] = kind[1];
      args[o + 3] = kind[2];
      args[o + 4] = kind[3];
      start = end;
    }
    added += many.run(args, named).changes;
  }
  const one = stmt(sq, IMPORT_ONE_SQL);
  for (; i < b.count; i++) {
    const end = ends[i];
    const kind = kinds[kindOf[i]];
    added += one.run(keys.slice(start, end), kind[0], kind[1], kind[2], kind[3], named).changes;
    start = end;
  }
  if (added) skipPendingForImportSqlite(sq, accountId, importId, before, now);
  // The audit row counts what is committed, in the batch's own transaction.
  stmt(sq, IMPORT_PROGRESS_SQL).run(added, b.count - added, now, importId);
  return added;
}

/** A bulk import's audit row. */
export type SuppressionImportRow = SuppressionImportTables['suppression_imports'];

/** One item of an address's history: a history row, or (id null) the add of an entry a bulk import wrote. */
export type HistoryItem = Omit<Selectable<SuppressionHistoryTable>, 'id'> & { id: number | null };

/** Filters of the ledger search. */
export interface SuppressionFilter {
  prefix?: string; reason?: string; scope?: string; listId?: string; from?: number; to?: number; after?: number; limit: number;
}

/** The suppression ledger and its append-only history. */
export function suppressionsRepo(store: Db) {
  const { db, dialect } = store;
  return {
    /**
     * Inserts the entries that do not exist yet, with one 'add' history row each, and returns the
     * inserted ones. One statement pair per 5,000 entries with the rows as one JSON parameter:
     * no bound-variable limit, no per-row round trip, and the SQL text is constant (issue 4 bench).
     */
    async addEntries(accountId: string, rows: NewEntry[], source: string, now: number): Promise<AddedEntry[]> {
      const out: AddedEntry[] = [];
      for (let i = 0; i < rows.length; i += CHUNK) {
        const json = JSON.stringify(rows.slice(i, i + CHUNK));
        out.push(...(dialect === 'postgres' ? await addPg(db, accountId, json, source, now) : await addSqlite(db, accountId, json, source, now)));
      }
      return out;
    },
    /**
     * One batch of a bulk import (rows already validated and canonical) in one transaction: the
     * ledger rows carry the import's id and get no history row each (the import has one audit
     * row; migration 008), and the pending mail the new entries block is skipped (R-UNSUB-9).
     * An import never clears or changes an entry (R-UNSUB-12): an existing one is left as it is.
     * Returns how many entries were new.
     */
    async importEntries(accountId: string, importId: string, batch: ImportBatch, source: string, now: number): Promise<number> {
      if (dialect !== 'postgres') return sqliteTransaction(store, (sq) => importSqlite(sq, accountId, importId, batch, source, now));
      const rows: Array<[string, string, string, string, string | null]> = [];
      forEachImportRow(batch, (k, [s, l, r, n]) => rows.push([k, s, l, r, n]));
      const json = JSON.stringify(rows);
      return db.transaction().execute(async (tx) => {
        const added = (await sql<AddedEntry>`insert into suppressions (account_id, address_key, scope, list_id, reason, source, note, ip, user_agent, created_at, import_id)
          select ${accountId}, x->>0, x->>1, x->>2, x->>3, ${source}, x->>4, null, null, ${now}, ${importId}
          from jsonb_array_elements(${json}::jsonb) as x
          on conflict do nothing returning address_key, scope, list_id, reason`.execute(tx)).rows;
        await skipPendingFor({ db: tx, dialect, close: async () => {} }, accountId, added, now);
        await sql`update suppression_imports set added = added + ${added.length}, existing = existing + ${batch.count - added.length}, updated_at = ${now} where id = ${importId}`.execute(tx);
        return added.length;
      });
    },
    createImport: (row: SuppressionImportRow) => db.insertInto('suppression_imports').values(row).execute(),
    finishImport: (id: string, set: Partial<SuppressionImportRow>) => db.updateTable('suppression_imports').set(set).where('id', '=', id).execute(),
    getImport: (accountId: string, id: string) => db.selectFrom('suppression_imports').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    /** A running import's heartbeat: it is still alive between batches (a slow upload). */
    touchImport: (id: string, now: number) => db.updateTable('suppression_imports').set({ updated_at: now }).where('id', '=', id).where('status', '=', 'running').execute(),
    /** The account's imports, newest first; `before` is the last id of the previous page. */
    listImports: (accountId: string, before: string | undefined, limit: number) => {
      let q = db.selectFrom('suppression_imports').selectAll().where('account_id', '=', accountId);
      if (before) q = q.where('id', '<', before);
      return q.orderBy('id', 'desc').limit(limit).execute();
    },
    /** Appends history rows (removals; adds are written by addEntries). */
    async history(rows: Insertable<SuppressionHistoryTable>[]): Promise<void> {
      // 500 rows x 11 columns stays under SQLite's 32,766 bound variables.
      for (let i = 0; i < rows.length; i += 500) await db.insertInto('suppression_history').values(rows.slice(i, i + 500)).execute();
    },
    async remove(accountId: string, key: string, scope: string, listId: string): Promise<SuppressionRow | undefined> {
      return db.deleteFrom('suppressions').where('account_id', '=', accountId).where('address_key', '=', key)
        .where('scope', '=', scope).where('list_id', '=', listId).returningAll().executeTakeFirst();
    },
    /** Every entry for a batch of keys: one query per batch, never per recipient. */
    forKeys: (accountId: string, keys: string[]) =>
      keys.length
        ? db.selectFrom('suppressions').select(['address_key', 'scope', 'list_id', 'reason', 'created_at'])
          .where('account_id', '=', accountId).where('address_key', 'in', keys).execute()
        : Promise.resolve([]),
    entries: (accountId: string, key: string) =>
      db.selectFrom('suppressions').selectAll().where('account_id', '=', accountId).where('address_key', '=', key).orderBy('id').execute(),
    /**
     * An address's full history: its history rows, plus the add of each current entry that a bulk
     * import wrote (those have no history row of their own), in time order.
     */
    async historyOf(accountId: string, key: string): Promise<HistoryItem[]> {
      const rows: HistoryItem[] = await db.selectFrom('suppression_history').selectAll().where('account_id', '=', accountId).where('address_key', '=', key).orderBy('id').execute();
      const imported = await db.selectFrom('suppressions').selectAll().where('account_id', '=', accountId).where('address_key', '=', key)
        .where('import_id', 'is not', null).orderBy('id').execute();
      if (!imported.length) return rows;
      const adds: HistoryItem[] = imported.map((e) => ({
        id: null, account_id: e.account_id, address_key: e.address_key, action: 'add', scope: e.scope, list_id: e.list_id, reason: e.reason,
        source: e.source, note: e.note, ip: e.ip, user_agent: e.user_agent, created_at: e.created_at, import_id: e.import_id,
      }));
      // Stable: history rows keep their id order; an import's add sorts by its time.
      return [...rows, ...adds].sort((a, b) => Number(a.created_at) - Number(b.created_at));
    },
    search(accountId: string, f: SuppressionFilter) {
      let q = db.selectFrom('suppressions').selectAll().where('account_id', '=', accountId);
      if (f.prefix) q = dialect === 'postgres'
        ? q.where('address_key', 'like', `${escapeLike(f.prefix.toLowerCase())}%`)
        : q.where('address_key', '>=', f.prefix.toLowerCase()).where('address_key', '<', f.prefix.toLowerCase() + '\uffff');
      if (f.reason) q = q.where('reason', '=', f.reason);
      if (f.scope) q = q.where('scope', '=', f.scope);
      if (f.listId) q = q.where('list_id', '=', f.listId);
      if (f.from) q = q.where('created_at', '>=', f.from);
      if (f.to) q = q.where('created_at', '<', f.to);
      if (f.after) q = q.where('id', '>', f.after);
      return q.orderBy('id').limit(f.limit).execute();
    },
    /** Unsubscribes ('add' with reason unsubscribe) per day and list since `from`. */
    async unsubscribesByDay(accountId: string, from: number) {
      const logged = await db.selectFrom('suppression_history').select(['list_id', 'created_at']).where('account_id', '=', accountId)
        .where('action', '=', 'add').where('reason', '=', 'unsubscribe').where('created_at', '>=', from).execute();
      // Entries a bulk import wrote count on their day too (while they stand; a removal copies their add into the history).
      const imported = await db.selectFrom('suppressions').select(['list_id', 'created_at']).where('account_id', '=', accountId)
        .where('import_id', 'is not', null).where('reason', '=', 'unsubscribe').where('created_at', '>=', from).execute();
      return [...logged, ...imported];
    },
    /** Skip events caused by unsubscribes since `from` (their data holds how long after the unsubscribe). */
    skipEvents: (accountId: string, from: number) =>
      db.selectFrom('events').select(['data']).where('account_id', '=', accountId).where('type', '=', 'skipped')
        .where('created_at', '>=', from).where('data', 'like', '%suppressed:unsubscribe%').execute(),
    counts: (accountId: string) =>
      db.selectFrom('suppressions').select(['reason', (eb) => eb.fn.countAll<number>().as('n')]).where('account_id', '=', accountId).groupBy('reason').execute(),
  };
}
