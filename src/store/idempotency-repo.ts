import type { Db } from './db.js';
import type { IdempotencyTable } from './types.js';

/** Idempotency keys of API requests: the same key replays the stored response. */
export function idempotencyRepo({ db }: Db) {
  return {
    get: (accountId: string, key: string) =>
      db.selectFrom('idempotency').selectAll().where('account_id', '=', accountId).where('key', '=', key).executeTakeFirst(),
    insert: (row: IdempotencyTable) => db.insertInto('idempotency').values(row).execute(),
  };
}
