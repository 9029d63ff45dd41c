import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { blobType, nn, withIdColumn } from '../dialect.js';

/** The initial schema: every row carries account_id (DESIGN "Data"). */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  await s.createTable('settings').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', nn).execute();
  await s.createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('name', 'text', nn).addColumn('created_at', 'bigint', nn).execute();
  await s.createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('email', 'text', (c) => c.notNull().unique()).addColumn('password_hash', 'text', nn)
    .addColumn('role', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addColumn('disabled_at', 'bigint').addColumn('last_login_at', 'bigint').execute();
  await s.createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', nn).addColumn('user_id', 'text', nn)
    .addColumn('csrf', 'text', nn).addColumn('created_at', 'bigint', nn).addColumn('expires_at', 'bigint', nn).execute();
  await s.createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', nn).addColumn('salt', 'text', nn).addColumn('hash', 'text', nn)
    .addColumn('scopes', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addColumn('last_used_at', 'bigint').addColumn('revoked_at', 'bigint').addColumn('created_by', 'text').execute();
  await s.createTable('domains')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', nn).addColumn('return_path_domain', 'text', nn).addColumn('unsubscribe_host', 'text')
    .addColumn('status', 'text', nn).addColumn('test_mode', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('check_json', 'text').addColumn('checked_at', 'bigint')
    .addColumn('created_at', 'bigint', nn).addColumn('verified_at', 'bigint')
    .addUniqueConstraint('domains_account_name', ['account_id', 'name']).execute();
  await s.createTable('dkim_keys')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', nn)
    .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id'))
    .addColumn('selector', 'text', nn).addColumn('algorithm', 'text', nn).addColumn('public_key', 'text', nn)
    .addColumn('private_key_enc', 'text', nn).addColumn('status', 'text', nn)
    .addColumn('created_at', 'bigint', nn).addColumn('retired_at', 'bigint')
    .addUniqueConstraint('dkim_keys_domain_selector', ['domain_id', 'selector']).execute();
  await s.createTable('lists')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', nn).addColumn('label', 'text', nn).addColumn('description', 'text', nn)
    .addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn)
    .addUniqueConstraint('lists_account_name', ['account_id', 'name']).execute();
  await withIdColumn(s.createTable('contacts'), d)
    .addColumn('account_id', 'text', nn).addColumn('address', 'text', nn).addColumn('address_key', 'text', nn)
    .addColumn('attributes', 'text', nn).addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn)
    .addUniqueConstraint('contacts_account_key', ['account_id', 'address_key']).execute();
  await withIdColumn(s.createTable('subscriptions'), d)
    .addColumn('account_id', 'text', nn).addColumn('list_id', 'text', nn).addColumn('contact_id', 'bigint', nn)
    .addColumn('status', 'text', nn).addColumn('consent_source', 'text').addColumn('consent_at', 'bigint')
    .addColumn('consent_ip', 'text').addColumn('confirmed_at', 'bigint').addColumn('unsubscribed_at', 'bigint')
    .addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn)
    .addUniqueConstraint('subscriptions_list_contact', ['list_id', 'contact_id']).execute();
  await s.createIndex('subscriptions_contact').on('subscriptions').columns(['contact_id']).execute();
  await withIdColumn(s.createTable('suppressions'), d)
    .addColumn('account_id', 'text', nn).addColumn('address_key', 'text', nn).addColumn('scope', 'text', nn)
    .addColumn('list_id', 'text', (c) => c.notNull().defaultTo('')).addColumn('reason', 'text', nn)
    .addColumn('source', 'text', nn).addColumn('note', 'text').addColumn('ip', 'text').addColumn('user_agent', 'text')
    .addColumn('created_at', 'bigint', nn)
    .addUniqueConstraint('suppressions_key', ['account_id', 'address_key', 'scope', 'list_id']).execute();
  await s.createIndex('suppressions_created').on('suppressions').columns(['account_id', 'created_at']).execute();
  await withIdColumn(s.createTable('suppression_history'), d)
    .addColumn('account_id', 'text', nn).addColumn('address_key', 'text', nn).addColumn('action', 'text', nn)
    .addColumn('scope', 'text', nn).addColumn('list_id', 'text', nn).addColumn('reason', 'text')
    .addColumn('source', 'text', nn).addColumn('note', 'text').addColumn('ip', 'text').addColumn('user_agent', 'text')
    .addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('suppression_history_key').on('suppression_history').columns(['account_id', 'address_key']).execute();
  await s.createTable('templates')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', nn).addColumn('name', 'text', nn)
    .addColumn('subject', 'text', nn).addColumn('html', 'text').addColumn('text', 'text')
    .addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn).execute();
  await s.createTable('campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', nn).addColumn('name', 'text', nn)
    .addColumn('status', 'text', nn).addColumn('category', 'text', nn).addColumn('list_ids', 'text', nn)
    .addColumn('from_address', 'text', nn).addColumn('reply_to', 'text').addColumn('subject', 'text', nn)
    .addColumn('html', 'text').addColumn('text', 'text').addColumn('template_id', 'text').addColumn('headers_json', 'text')
    .addColumn('scheduled_at', 'bigint').addColumn('lease_owner', 'text').addColumn('lease_until', 'bigint')
    .addColumn('plan_cursor', 'text').addColumn('planned', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn)
    .addColumn('started_at', 'bigint').addColumn('finished_at', 'bigint').execute();
  await s.createIndex('campaigns_due').on('campaigns').columns(['status', 'scheduled_at']).execute();
  await withIdColumn(s.createTable('contents'), d)
    .addColumn('account_id', 'text', nn).addColumn('data', 'text', nn).addColumn('created_at', 'bigint', nn).execute();
  await withIdColumn(s.createTable('messages'), d)
    .addColumn('account_id', 'text', nn).addColumn('campaign_id', 'text').addColumn('content_id', 'bigint')
    .addColumn('list_id', 'text').addColumn('contact_id', 'bigint').addColumn('category', 'text', nn)
    .addColumn('domain_id', 'text').addColumn('from_address', 'text', nn).addColumn('rcpt', 'text', nn)
    .addColumn('rcpt_key', 'text', nn).addColumn('data', 'text').addColumn('message_id', 'text', nn)
    .addColumn('status', 'text', nn).addColumn('reason', 'text').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', nn).addColumn('lease_owner', 'text').addColumn('lease_until', 'bigint')
    .addColumn('last_reply', 'text').addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn)
    .addColumn('sent_at', 'bigint')
    // A recipient is planned at most once per campaign, even across crashes (DESIGN convention 8).
    .addUniqueConstraint('messages_campaign_rcpt', ['campaign_id', 'rcpt_key']).execute();
  await s.createIndex('messages_due').on('messages').columns(['status', 'next_attempt_at']).execute();
  await s.createIndex('messages_account_rcpt').on('messages').columns(['account_id', 'rcpt_key']).execute();
  await s.createIndex('messages_message_id').on('messages').columns(['message_id']).execute();
  await s.createIndex('messages_campaign_status').on('messages').columns(['campaign_id', 'status']).execute();
  await withIdColumn(s.createTable('events'), d)
    .addColumn('account_id', 'text', nn).addColumn('message_id', 'bigint').addColumn('campaign_id', 'text')
    .addColumn('type', 'text', nn).addColumn('data', 'text').addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('events_message').on('events').columns(['message_id']).execute();
  await s.createIndex('events_account_created').on('events').columns(['account_id', 'created_at']).execute();
  await withIdColumn(s.createTable('captured'), d)
    .addColumn('account_id', 'text', nn).addColumn('message_id', 'bigint').addColumn('mail_from', 'text', nn)
    .addColumn('rcpt_to', 'text', nn).addColumn('raw', blobType(d), nn).addColumn('size', 'integer', nn)
    .addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('captured_account').on('captured').columns(['account_id', 'id']).execute();
  await s.createTable('idempotency')
    .addColumn('account_id', 'text', nn).addColumn('key', 'text', nn).addColumn('request_hash', 'text', nn)
    .addColumn('response', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addPrimaryKeyConstraint('idempotency_pk', ['account_id', 'key']).execute();
  await s.createTable('volume_counters')
    .addColumn('account_id', 'text', nn).addColumn('org_domain', 'text', nn).addColumn('provider', 'text', nn)
    .addColumn('day', 'text', nn).addColumn('count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('volume_counters_pk', ['account_id', 'org_domain', 'provider', 'day']).execute();
  await s.createTable('bulk_senders')
    .addColumn('account_id', 'text', nn).addColumn('org_domain', 'text', nn).addColumn('provider', 'text', nn)
    .addColumn('since', 'bigint', nn)
    .addPrimaryKeyConstraint('bulk_senders_pk', ['account_id', 'org_domain', 'provider']).execute();
}
