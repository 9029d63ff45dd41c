import type { Insertable, Selectable } from 'kysely';
import type { Db } from './db.js';
import type { ContactsTable, SubscriptionsTable } from './types.js';

/** A contact row. */
export type ContactRow = Selectable<ContactsTable>;

/** Contacts and their subscriptions (consent evidence, R-CONSENT-1). */
export function contactsRepo({ db }: Db) {
  return {
    get: (accountId: string, id: number) => db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    byKey: (accountId: string, key: string) => db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('address_key', '=', key).executeTakeFirst(),
    /** Existing contacts for a batch of keys (one query). */
    byKeys: (accountId: string, keys: string[]) =>
      keys.length ? db.selectFrom('contacts').select(['id', 'address_key', 'attributes']).where('account_id', '=', accountId).where('address_key', 'in', keys).execute() : Promise.resolve([]),
    list(accountId: string, f: { after?: number; limit: number; prefix?: string }) {
      let q = db.selectFrom('contacts').selectAll().where('account_id', '=', accountId);
      if (f.after) q = q.where('id', '>', f.after);
      if (f.prefix) q = q.where('address_key', '>=', f.prefix.toLowerCase()).where('address_key', '<', f.prefix.toLowerCase() + '\uffff');
      return q.orderBy('id').limit(f.limit).execute();
    },
    /** Upserts contacts by (account, key); returns id and key of every row. */
    upsert: (rows: Insertable<ContactsTable>[]) =>
      db.insertInto('contacts').values(rows)
        .onConflict((oc) => oc.columns(['account_id', 'address_key']).doUpdateSet((eb) => ({ attributes: eb.ref('excluded.attributes'), updated_at: eb.ref('excluded.updated_at') })))
        .returning(['id', 'address_key']).execute(),
    updateAttributes: (accountId: string, id: number, attributes: string, now: number) =>
      db.updateTable('contacts').set({ attributes, updated_at: now }).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    remove: (accountId: string, id: number) => db.deleteFrom('contacts').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    removeSubscriptions: (accountId: string, contactId: number) =>
      db.deleteFrom('subscriptions').where('account_id', '=', accountId).where('contact_id', '=', contactId).execute(),
    subscriptions: (accountId: string, contactId: number) =>
      db.selectFrom('subscriptions').selectAll().where('account_id', '=', accountId).where('contact_id', '=', contactId).orderBy('id').execute(),
    /** Existing subscriptions of a list for a batch of contacts. */
    subscriptionsFor: (listId: string, contactIds: number[]) =>
      contactIds.length ? db.selectFrom('subscriptions').select(['contact_id', 'status']).where('list_id', '=', listId).where('contact_id', 'in', contactIds).execute() : Promise.resolve([]),
    /** Inserts subscriptions that do not exist; never changes an existing one (R-UNSUB-12). */
    insertSubscriptions: (rows: Insertable<SubscriptionsTable>[]) =>
      rows.length ? db.insertInto('subscriptions').values(rows).onConflict((oc) => oc.columns(['list_id', 'contact_id']).doNothing()).execute() : Promise.resolve([]),
    setSubscription: (accountId: string, listId: string, contactId: number, patch: Partial<Selectable<SubscriptionsTable>>) =>
      db.updateTable('subscriptions').set(patch).where('account_id', '=', accountId).where('list_id', '=', listId).where('contact_id', '=', contactId).executeTakeFirst(),
  };
}
