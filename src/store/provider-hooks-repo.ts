import type { Insertable } from 'kysely';
import type { Db } from './db.js';
import type { BounceTables } from './types-bounces.js';

/** Smarthost providers' webhook endpoints and the event ids already applied (issue 5 item 5). */
export function providerHooksRepo(store: Db) {
  const db = store.db;
  return {
    insert: (row: Insertable<BounceTables['provider_hooks']>) => db.insertInto('provider_hooks').values(row).execute(),
    list: (accountId: string) => db.selectFrom('provider_hooks').select(['id', 'provider', 'created_at', 'last_event_at', 'disabled_at'])
      .where('account_id', '=', accountId).orderBy('created_at').execute(),
    /** Deletes a hook of the account and its seen-event ids; false when there is none. */
    async remove(accountId: string, id: string): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const r = await tx.deleteFrom('provider_hooks').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
        if (!Number(r.numDeletedRows)) return false;
        await tx.deleteFrom('provider_events_seen').where('hook_id', '=', id).execute();
        return true;
      });
    },
    active: (provider: string, id: string) =>
      db.selectFrom('provider_hooks').selectAll().where('id', '=', id).where('provider', '=', provider).where('disabled_at', 'is', null).executeTakeFirst(),
    /** Records an event id; true when it is new (a provider retry answers false). */
    async markSeen(hookId: string, key: string, now: number): Promise<boolean> {
      return !!(await db.insertInto('provider_events_seen').values({ hook_id: hookId, event_key: key.slice(0, 300), created_at: now })
        .onConflict((oc) => oc.doNothing()).returning('event_key').executeTakeFirst());
    },
    touched: (id: string, now: number) => db.updateTable('provider_hooks').set({ last_event_at: now }).where('id', '=', id).execute(),
  };
}
