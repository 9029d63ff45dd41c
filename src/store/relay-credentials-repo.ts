import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { SmtpCredentialsTable } from './types-relay.js';

/** A stored SMTP credential (hash only). */
export type SmtpCredentialRow = Selectable<SmtpCredentialsTable>;

const PUBLIC = ['id', 'name', 'username', 'rate_per_minute', 'allowed_ips', 'ip_auth', 'created_at', 'created_by', 'last_used_at', 'revoked_at'] as const;

/** SMTP credentials of the relay; every query but the AUTH lookup is scoped to one account. */
export function relayCredentialsRepo({ db }: Db) {
  return {
    insert: (row: SmtpCredentialRow) => db.insertInto('smtp_credentials').values(row).execute(),
    /** Without salt and hash. */
    list: (accountId: string) => db.selectFrom('smtp_credentials').select(PUBLIC).where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute(),
    get: (accountId: string, id: string) =>
      db.selectFrom('smtp_credentials').select(PUBLIC).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    /** The AUTH lookup: the username is globally unique and names the account. */
    byUsername: (username: string) => db.selectFrom('smtp_credentials').selectAll().where('username', '=', username).executeTakeFirst(),
    /** Live credentials that authenticate by client address. */
    ipAuth: () => db.selectFrom('smtp_credentials').selectAll().where('ip_auth', '=', 1).where('revoked_at', 'is', null).execute(),
    revoke: (accountId: string, id: string, now: number) =>
      db.updateTable('smtp_credentials').set({ revoked_at: now }).where('account_id', '=', accountId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst(),
    update: (accountId: string, id: string, set: Partial<Pick<SmtpCredentialRow, 'name' | 'rate_per_minute' | 'allowed_ips' | 'ip_auth'>>) =>
      db.updateTable('smtp_credentials').set(set).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    touch: (id: string, now: number) => db.updateTable('smtp_credentials').set({ last_used_at: now }).where('id', '=', id).execute(),
  };
}
