import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { nn, withIdColumn } from '../dialect.js';

/**
 * Signed event webhooks (issue 10): endpoints with encrypted secrets, one delivery row per
 * (source event, endpoint) with a lease, the attempt log, and the dispatcher's durable cursors.
 */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  await s.createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('url', 'text', nn).addColumn('description', 'text', nn).addColumn('event_types', 'text', nn)
    .addColumn('status', 'text', nn).addColumn('secret_enc', 'text', nn)
    // During a rotation the previous secret also signs until previous_expires_at (Standard Webhooks).
    .addColumn('previous_secret_enc', 'text').addColumn('previous_expires_at', 'bigint')
    .addColumn('failing_since', 'bigint').addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_at', 'bigint').addColumn('disabled_reason', 'text')
    .addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn).execute();
  await s.createIndex('webhook_endpoints_account').on('webhook_endpoints').columns(['account_id', 'status']).execute();
  await withIdColumn(s.createTable('webhook_deliveries'), d)
    .addColumn('webhook_id', 'text', (c) => c.notNull().unique()).addColumn('account_id', 'text', nn)
    .addColumn('endpoint_id', 'text', nn).addColumn('event_type', 'text', nn).addColumn('source', 'text', nn)
    .addColumn('payload', 'text', nn).addColumn('status', 'text', nn)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0)).addColumn('next_attempt_at', 'bigint', nn)
    .addColumn('window_start', 'bigint', nn).addColumn('lease_owner', 'text').addColumn('lease_until', 'bigint')
    .addColumn('last_status_code', 'integer').addColumn('last_error', 'text').addColumn('last_attempt_at', 'bigint')
    .addColumn('delivered_at', 'bigint').addColumn('created_at', 'bigint', nn).addColumn('updated_at', 'bigint', nn)
    // At-least-once without fan-out duplicates: one delivery per source event per endpoint.
    .addUniqueConstraint('webhook_deliveries_source', ['endpoint_id', 'source']).execute();
  await s.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await s.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();
  await withIdColumn(s.createTable('webhook_attempts'), d)
    .addColumn('account_id', 'text', nn).addColumn('delivery_id', 'bigint', nn).addColumn('endpoint_id', 'text', nn)
    .addColumn('attempted_at', 'bigint', nn).addColumn('status_code', 'integer').addColumn('error', 'text')
    .addColumn('response', 'text').addColumn('duration_ms', 'integer', nn).execute();
  await s.createIndex('webhook_attempts_delivery').on('webhook_attempts').columns(['delivery_id', 'id']).execute();
  await s.createTable('webhook_cursors')
    .addColumn('name', 'text', (c) => c.primaryKey()).addColumn('last_id', 'bigint', nn).addColumn('gap_seen_at', 'bigint').execute();
  await db.insertInto('webhook_cursors').values([{ name: 'events', last_id: 0 }, { name: 'suppression_history', last_id: 0 }]).execute();
}
