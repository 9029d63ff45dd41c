import type { Db } from './db.js';
import type { ConsoleSessionsTable } from './types-console.js';

/** Console users (the `users` table), their sessions and failed-login records (issue 8). */
export function consoleRepo({ db }: Db) {
  const userCols = ['id', 'account_id', 'email', 'role', 'created_at', 'disabled_at', 'last_login_at'] as const;
  return {
    getUserByEmail: (email: string) => db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst(),
    getUser: (accountId: string, id: string) =>
      db.selectFrom('users').select(userCols).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    getUserById: (id: string) => db.selectFrom('users').select(userCols).where('id', '=', id).executeTakeFirst(),
    listUsers: (accountId: string) =>
      db.selectFrom('users').select(userCols).where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute(),
    updateUser: (accountId: string, id: string, set: { password_hash?: string; role?: string; disabled_at?: number | null; last_login_at?: number }) =>
      db.updateTable('users').set(set).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    countActiveAdmins: async (accountId: string) => Number((await db.selectFrom('users').select((e) => e.fn.countAll().as('n'))
      .where('account_id', '=', accountId).where('role', '=', 'admin').where('disabled_at', 'is', null).executeTakeFirstOrThrow()).n),

    insertSession: (row: ConsoleSessionsTable) => db.insertInto('console_sessions').values(row).execute(),
    getSession: (id: string) => db.selectFrom('console_sessions').selectAll().where('id', '=', id).executeTakeFirst(),
    touchSession: (id: string, at: number) => db.updateTable('console_sessions').set({ last_seen_at: at }).where('id', '=', id).execute(),
    deleteSession: (id: string) => db.deleteFrom('console_sessions').where('id', '=', id).execute(),
    deleteUserSessions: (userId: string) => db.deleteFrom('console_sessions').where('user_id', '=', userId).execute(),
    deleteExpiredSessions: (now: number) => db.deleteFrom('console_sessions').where('expires_at', '<', now).execute(),

    insertFailures: (keys: string[], at: number) =>
      db.insertInto('console_login_failures').values(keys.map((key) => ({ key, created_at: at }))).execute(),
    countFailures: async (key: string, since: number) => Number((await db.selectFrom('console_login_failures')
      .select((e) => e.fn.countAll().as('n')).where('key', '=', key).where('created_at', '>=', since).executeTakeFirstOrThrow()).n),
    oldestFailure: async (key: string, since: number) => (await db.selectFrom('console_login_failures').select('created_at')
      .where('key', '=', key).where('created_at', '>=', since).orderBy('created_at').limit(1).executeTakeFirst())?.created_at ?? null,
    clearFailures: (key: string) => db.deleteFrom('console_login_failures').where('key', '=', key).execute(),
    pruneFailures: (before: number) => db.deleteFrom('console_login_failures').where('created_at', '<', before).execute(),
  };
}

/** The console repository's type. */
export type ConsoleRepo = ReturnType<typeof consoleRepo>;
