import type { Db } from './db.js';

/** Lookups behind the public unsubscribe pages; every query carries the token's account. */
export function unsubscribeRepo({ db }: Db) {
  return {
    contact: (accountId: string, id: number) =>
      db.selectFrom('contacts').select(['id', 'address', 'address_key']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    message: (accountId: string, id: number) =>
      db.selectFrom('messages').select(['id', 'rcpt', 'rcpt_key', 'contact_id']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    contacts: (ids: number[]) =>
      ids.length ? db.selectFrom('contacts').select(['id', 'account_id', 'address', 'address_key']).where('id', 'in', ids).execute() : Promise.resolve([]),
    messages: (ids: number[]) =>
      ids.length ? db.selectFrom('messages').select(['id', 'account_id', 'rcpt', 'rcpt_key', 'contact_id']).where('id', 'in', ids).execute() : Promise.resolve([]),
    account: (id: string) => db.selectFrom('accounts').select(['id', 'name']).where('id', '=', id).executeTakeFirst(),
    lists: (accountId: string) => db.selectFrom('lists').select(['id', 'name']).where('account_id', '=', accountId).orderBy('name').execute(),
    /** Marks the contact's subscription unsubscribed too, so lists show the truth. */
    markUnsubscribed: (accountId: string, contactIds: number[], listId: string, now: number) =>
      db.updateTable('subscriptions').set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
        .where('account_id', '=', accountId).where('contact_id', 'in', contactIds).where('list_id', '=', listId).where('status', '!=', 'unsubscribed').execute(),
  };
}
