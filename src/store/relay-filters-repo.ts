import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { RelayFiltersTable } from './types-relay.js';

/** A relay filter row. */
export type RelayFilterRow = Selectable<RelayFiltersTable>;

/** Relay filters of an account, in evaluation order (position, then id). */
export function relayFiltersRepo({ db }: Db) {
  return {
    list: (accountId: string) => db.selectFrom('relay_filters').selectAll().where('account_id', '=', accountId).orderBy('position').orderBy('id').execute(),
    get: (accountId: string, id: string) =>
      db.selectFrom('relay_filters').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    insert: (row: RelayFilterRow) => db.insertInto('relay_filters').values(row).execute(),
    update: (accountId: string, id: string, set: Partial<Omit<RelayFilterRow, 'id' | 'account_id' | 'created_at'>>) =>
      db.updateTable('relay_filters').set(set).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    remove: (accountId: string, id: string) => db.deleteFrom('relay_filters').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    setPosition: (accountId: string, id: string, position: number, now: number) =>
      db.updateTable('relay_filters').set({ position, updated_at: now }).where('account_id', '=', accountId).where('id', '=', id).execute(),
    /** True when the list belongs to the account (a filter may only name its own lists). */
    async listExists(accountId: string, listId: string): Promise<boolean> {
      return !!(await db.selectFrom('lists').select('id').where('account_id', '=', accountId).where('id', '=', listId).executeTakeFirst());
    },
  };
}
