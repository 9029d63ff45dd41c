import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { blobType, nn, withIdColumn } from '../dialect.js';

/** SMTP credentials, relay filters and the stored bytes of relayed messages (issue 7). */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  await s.createTable('smtp_credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', nn).addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('salt', 'text', nn).addColumn('hash', 'text', nn).addColumn('rate_per_minute', 'integer')
    .addColumn('allowed_ips', 'text', (c) => c.notNull().defaultTo('[]')).addColumn('ip_auth', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', nn).addColumn('created_by', 'text')
    .addColumn('last_used_at', 'bigint').addColumn('revoked_at', 'bigint').execute();
  await s.createIndex('smtp_credentials_account').on('smtp_credentials').columns(['account_id']).execute();
  await s.createTable('relay_filters')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('position', 'integer', nn).addColumn('name', 'text', nn).addColumn('header', 'text', nn)
    .addColumn('match', 'text', nn).addColumn('value', 'text', nn).addColumn('list_id', 'text', nn)
    .addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn).execute();
  await s.createIndex('relay_filters_account').on('relay_filters').columns(['account_id', 'position']).execute();
  await withIdColumn(s.createTable('relay_messages'), d)
    .addColumn('account_id', 'text', nn).addColumn('credential_id', 'text', nn).addColumn('filter_id', 'text')
    .addColumn('mail_from', 'text', nn).addColumn('raw', blobType(d), nn).addColumn('size', 'integer', nn)
    .addColumn('plan', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addColumn('first_message_id', 'bigint').addColumn('last_message_id', 'bigint').execute();
  await s.createIndex('relay_messages_account').on('relay_messages').columns(['account_id', 'id']).execute();
}
