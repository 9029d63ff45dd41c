import type { Selectable, Updateable } from 'kysely';
import type { Db } from './db.js';
import type { DkimKeysTable, DomainsTable } from './types.js';

/** A domain row. */
export type DomainRow = Selectable<DomainsTable>;
/** A DKIM key row (private key encrypted). */
export type DkimKeyRow = Selectable<DkimKeysTable>;

/** Sending domains and their DKIM keys. */
export function domainsRepo({ db }: Db) {
  return {
    insert: (row: DomainsTable) => db.insertInto('domains').values(row).execute(),
    get: (accountId: string, id: string) =>
      db.selectFrom('domains').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    byName: (accountId: string, name: string) =>
      db.selectFrom('domains').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst(),
    /** Every domain of every account with this return-path domain (inbound routing). */
    byReturnPath: (name: string) => db.selectFrom('domains').selectAll().where('return_path_domain', '=', name).execute(),
    list: (accountId: string) => db.selectFrom('domains').selectAll().where('account_id', '=', accountId).orderBy('name').execute(),
    update: (accountId: string, id: string, patch: Updateable<DomainsTable>) =>
      db.updateTable('domains').set(patch).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    remove: (accountId: string, id: string) =>
      db.deleteFrom('domains').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    removeKeys: (accountId: string, domainId: string) =>
      db.deleteFrom('dkim_keys').where('account_id', '=', accountId).where('domain_id', '=', domainId).execute(),
    insertKey: (row: DkimKeysTable) => db.insertInto('dkim_keys').values(row).execute(),
    keys: (accountId: string, domainId: string) =>
      db.selectFrom('dkim_keys').selectAll().where('account_id', '=', accountId).where('domain_id', '=', domainId).orderBy('created_at').orderBy('id').execute(),
    setKeyStatus: (accountId: string, domainId: string, ids: string[], status: string, at: number | null) =>
      db.updateTable('dkim_keys').set({ status, retired_at: at }).where('account_id', '=', accountId)
        .where('domain_id', '=', domainId).where('id', 'in', ids).executeTakeFirst(),
    queuedFor: (accountId: string, domainId: string) =>
      db.selectFrom('messages').select('id').where('account_id', '=', accountId).where('domain_id', '=', domainId)
        .where('status', 'in', ['queued', 'deferred', 'sending', 'paused']).limit(1).executeTakeFirst(),
  };
}
