import type { Db } from './db.js';
import type { AccountsTable, ApiKeysTable, UsersTable } from './types.js';

/** Accounts, their API keys and console users. */
export function accountsRepo({ db }: Db) {
  return {
    insertAccount: (row: AccountsTable) => db.insertInto('accounts').values(row).execute(),
    getAccount: (id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst(),
    listAccounts: () => db.selectFrom('accounts').selectAll().orderBy('created_at').execute(),
    countAccounts: async () => Number((await db.selectFrom('accounts').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),

    insertKey: (row: ApiKeysTable) => db.insertInto('api_keys').values(row).execute(),
    getKey: (id: string) => db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst(),
    listKeys: (accountId: string) =>
      db.selectFrom('api_keys').select(['id', 'name', 'scopes', 'created_at', 'last_used_at', 'revoked_at', 'created_by'])
        .where('account_id', '=', accountId).orderBy('created_at').execute(),
    revokeKey: (accountId: string, id: string, at: number) =>
      db.updateTable('api_keys').set({ revoked_at: at }).where('account_id', '=', accountId).where('id', '=', id)
        .where('revoked_at', 'is', null).executeTakeFirst(),
    touchKey: (id: string, at: number) => db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute(),

    insertUser: (row: UsersTable) => db.insertInto('users').values(row).execute(),
    getUserByEmail: (email: string) => db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst(),
    listUsers: (accountId: string) =>
      db.selectFrom('users').select(['id', 'email', 'role', 'created_at', 'disabled_at', 'last_login_at'])
        .where('account_id', '=', accountId).orderBy('created_at').execute(),
  };
}

/** The accounts repository's type. */
export type AccountsRepo = ReturnType<typeof accountsRepo>;
