import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { nn, withIdColumn } from '../dialect.js';

/**
 * Console sessions and failed-login records (issue 8). Sessions are keyed by the SHA-256 of the
 * cookie token, so a copy of the database does not hand out live sessions. The `users` table of
 * 001-initial holds the console users themselves.
 */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  await s.createTable('console_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', nn).addColumn('user_id', 'text', nn).addColumn('csrf', 'text', nn)
    .addColumn('ip', 'text').addColumn('user_agent', 'text')
    .addColumn('created_at', 'bigint', nn).addColumn('last_seen_at', 'bigint', nn).addColumn('expires_at', 'bigint', nn).execute();
  await s.createIndex('console_sessions_user').on('console_sessions').columns(['user_id']).execute();
  // One row per failed attempt; `key` is `email:<address>` or `ip:<address>` (the rate limit counts both).
  await withIdColumn(s.createTable('console_login_failures'), d)
    .addColumn('key', 'text', nn).addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('console_login_failures_key').on('console_login_failures').columns(['key', 'created_at']).execute();
}
