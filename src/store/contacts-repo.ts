import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Db } from './db.js';
import type { ContactsTable, DB, SubscriptionsTable } from './types.js';

/** A contact row. */
export type ContactRow = Selectable<ContactsTable>;

/** One subscribed contact of a page; `list_id` is the first of the requested lists it is subscribed to. */
export interface SubscriberRow {
  contact_id: number;
  address: string;
  address_key: string;
  attributes: Record<string, unknown>;
  list_id: string;
}

/**
 * The next `limit` subscribed contact ids of one list (`anyStatus`: of any subscription status,
 * as a campaign's planner reads them to log each skip): an ordered range on the unique index
 * (list_id, contact_id), reading the status of each entry. A (list_id, status, contact_id) index
 * was tried and dropped: SQLite, without statistics, then prefers it for `list_id = ? AND
 * contact_id IN (…)` lookups and scans the whole list on each import batch.
 */
export function subscriberIdsQuery(db: Kysely<DB>, accountId: string, listId: string, afterContactId: number, limit: number, opts: { anyStatus?: boolean } = {}) {
  let q = db.selectFrom('subscriptions').select('contact_id').where('list_id', '=', listId);
  if (!opts.anyStatus) q = q.where('status', '=', 'subscribed');
  return q.where('contact_id', '>', afterContactId).where('account_id', '=', accountId).orderBy('contact_id').limit(limit);
}

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
    /**
     * A keyset page of DISTINCT contacts subscribed to any of `listIds`, in contact-id order,
     * with ids above `afterContactId`. One bounded range per list on the unique index
     * (list_id, contact_id), merged here: a single
     * `list_id IN (…) ORDER BY contact_id` query would make the database read and sort every
     * remaining subscription on each page. The smallest `limit` ids of the union are among the
     * smallest `limit` of each list, so the merge is exact, and so is `list_id`.
     */
    async pageSubscribers(accountId: string, listIds: string[], afterContactId: number, limit: number): Promise<SubscriberRow[]> {
      const lists = [...new Set(listIds)];
      if (!lists.length || limit <= 0) return [];
      const firstList = new Map<number, number>();
      for (const [i, listId] of lists.entries()) {
        const rows = await subscriberIdsQuery(db, accountId, listId, afterContactId, limit).execute();
        for (const r of rows) if (!firstList.has(Number(r.contact_id))) firstList.set(Number(r.contact_id), i);
      }
      const ids = [...firstList.keys()].sort((a, b) => a - b).slice(0, limit);
      if (!ids.length) return [];
      const contacts = await db.selectFrom('contacts').select(['id', 'address', 'address_key', 'attributes'])
        .where('account_id', '=', accountId).where('id', 'in', ids).orderBy('id').execute();
      return contacts.map((c) => ({
        contact_id: Number(c.id), address: c.address, address_key: c.address_key,
        attributes: JSON.parse(c.attributes) as Record<string, unknown>, list_id: lists[firstList.get(Number(c.id))!],
      }));
    },
    setSubscription: (accountId: string, listId: string, contactId: number, patch: Partial<Selectable<SubscriptionsTable>>) =>
      db.updateTable('subscriptions').set(patch).where('account_id', '=', accountId).where('list_id', '=', listId).where('contact_id', '=', contactId).executeTakeFirst(),
  };
}
