import type { Insertable, Selectable } from 'kysely';
import type { Db } from './db.js';
import { escapeLike } from './dialect.js';
import type { SuppressionHistoryTable, SuppressionsTable } from './types.js';

const CHUNK = 500;

/** A ledger entry. */
export type SuppressionRow = Selectable<SuppressionsTable>;

/** Filters of the ledger search. */
export interface SuppressionFilter {
  prefix?: string; reason?: string; scope?: string; listId?: string; from?: number; to?: number; after?: number; limit: number;
}

/** The suppression ledger and its append-only history. */
export function suppressionsRepo({ db, dialect }: Db) {
  return {
    /** Inserts entries that do not exist yet; returns the ones inserted. */
    async insertNew(rows: Insertable<SuppressionsTable>[]): Promise<SuppressionRow[]> {
      const out: SuppressionRow[] = [];
      // Chunks keep every statement under SQLite's limit of 32,766 bound variables.
      for (let i = 0; i < rows.length; i += CHUNK) {
        out.push(...await db.insertInto('suppressions').values(rows.slice(i, i + CHUNK))
          .onConflict((oc) => oc.columns(['account_id', 'address_key', 'scope', 'list_id']).doNothing()).returningAll().execute());
      }
      return out;
    },
    async history(rows: Insertable<SuppressionHistoryTable>[]): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) await db.insertInto('suppression_history').values(rows.slice(i, i + CHUNK)).execute();
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
    historyOf: (accountId: string, key: string) =>
      db.selectFrom('suppression_history').selectAll().where('account_id', '=', accountId).where('address_key', '=', key).orderBy('id').execute(),
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
    unsubscribesByDay: (accountId: string, from: number) =>
      db.selectFrom('suppression_history').select(['list_id', 'created_at']).where('account_id', '=', accountId)
        .where('action', '=', 'add').where('reason', '=', 'unsubscribe').where('created_at', '>=', from).execute(),
    /** Skip events caused by unsubscribes since `from` (their data holds how long after the unsubscribe). */
    skipEvents: (accountId: string, from: number) =>
      db.selectFrom('events').select(['data']).where('account_id', '=', accountId).where('type', '=', 'skipped')
        .where('created_at', '>=', from).where('data', 'like', '%suppressed:unsubscribe%').execute(),
    counts: (accountId: string) =>
      db.selectFrom('suppressions').select(['reason', (eb) => eb.fn.countAll<number>().as('n')]).where('account_id', '=', accountId).groupBy('reason').execute(),
  };
}
