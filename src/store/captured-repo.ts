import type { Db } from './db.js';

/** Messages kept by the capture transport (the default until a real transport is configured). */
export function capturedRepo({ db }: Db) {
  return {
    insert: (row: { account_id: string; message_id: number | null; mail_from: string; rcpt_to: string; raw: Buffer; size: number; created_at: number }) =>
      db.insertInto('captured').values(row).returning('id').executeTakeFirstOrThrow(),
    list(accountId: string, f: { after?: number; limit: number; rcpt?: string }) {
      let q = db.selectFrom('captured').select(['id', 'message_id', 'mail_from', 'rcpt_to', 'size', 'created_at']).where('account_id', '=', accountId);
      if (f.after) q = q.where('id', '>', f.after);
      if (f.rcpt) q = q.where('rcpt_to', '=', f.rcpt);
      return q.orderBy('id').limit(f.limit).execute();
    },
    get: (accountId: string, id: number) =>
      db.selectFrom('captured').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    clear: (accountId: string) => db.deleteFrom('captured').where('account_id', '=', accountId).executeTakeFirst(),
  };
}
