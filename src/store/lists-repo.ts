import type { Updateable } from 'kysely';
import type { Db } from './db.js';
import type { ListsTable } from './types.js';

/** Subscription lists of an account. */
export function listsRepo({ db }: Db) {
  return {
    insert: (row: ListsTable) => db.insertInto('lists').values(row).execute(),
    get: (accountId: string, id: string) => db.selectFrom('lists').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    byName: (accountId: string, name: string) => db.selectFrom('lists').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst(),
    list: (accountId: string) => db.selectFrom('lists').selectAll().where('account_id', '=', accountId).orderBy('name').execute(),
    update: (accountId: string, id: string, patch: Updateable<ListsTable>) =>
      db.updateTable('lists').set(patch).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    remove: (accountId: string, id: string) => db.deleteFrom('lists').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    /** Subscriber counts by status. */
    counts: (accountId: string, id: string) =>
      db.selectFrom('subscriptions').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('account_id', '=', accountId).where('list_id', '=', id).groupBy('status').execute(),
    /** A campaign (in any state) that names the list in its JSON `list_ids`, if any. */
    usedByCampaign: (accountId: string, id: string) =>
      db.selectFrom('campaigns').select(['id', 'status']).where('account_id', '=', accountId).where('list_ids', 'like', `%"${id}"%`)
        .limit(1).executeTakeFirst(),
    /** A relay filter that marks mail as this list's subscription mail (issue 7). */
    usedByRelayFilter: (accountId: string, id: string) =>
      db.selectFrom('relay_filters').select('id').where('account_id', '=', accountId).where('list_id', '=', id).limit(1).executeTakeFirst(),
  };
}
