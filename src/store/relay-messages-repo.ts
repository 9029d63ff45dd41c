import type { Insertable } from 'kysely';
import type { Db } from './db.js';
import type { RelayMessagesTable } from './types-relay.js';

/** A new stored relayed message. */
export type NewRelayMessage = Insertable<RelayMessagesTable>;

/** Message rows of relayed mail carry `data = {"relay":<id>}`; this prefix finds them. */
export const RELAY_DATA_PREFIX = '{"relay":';

/** The stored bytes of relayed messages and the relay's delivery counts. */
export function relayMessagesRepo({ db }: Db) {
  return {
    async insert(row: NewRelayMessage): Promise<number> {
      const r = await db.insertInto('relay_messages').values(row).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
    setMessageIds: (id: number, first: number, last: number) =>
      db.updateTable('relay_messages').set({ first_message_id: first, last_message_id: last }).where('id', '=', id).execute(),
    /**
     * Deletes stored bytes older than `before` whose message rows are all final (sent, bounced,
     * failed, skipped): nothing can need them again. The message log (rows, events) stays.
     */
    async prune(before: number, limit = 1000): Promise<number> {
      const r = await db.deleteFrom('relay_messages').where('id', 'in', (eb) => eb.selectFrom('relay_messages as r').select('r.id')
        .where('r.created_at', '<', before)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('messages as m').select('m.id')
          .whereRef('m.id', '>=', 'r.first_message_id').whereRef('m.id', '<=', 'r.last_message_id')
          .where('m.status', 'in', ['queued', 'deferred', 'sending', 'paused']))))
        .limit(limit)).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    get: (id: number) => db.selectFrom('relay_messages').select(['id', 'account_id', 'raw', 'plan', 'credential_id']).where('id', '=', id).executeTakeFirst(),
    /** Relayed recipients by status and reason since a time (suppressed ones are `skipped`, seed 002 item 3). */
    counts: (accountId: string, since: number) =>
      db.selectFrom('messages').select(['status', 'reason', (eb) => eb.fn.countAll<number>().as('n')])
        .where('account_id', '=', accountId).where('created_at', '>=', since).where('data', 'like', `${RELAY_DATA_PREFIX}%`)
        .groupBy(['status', 'reason']).execute(),
  };
}
