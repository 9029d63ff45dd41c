import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { blobType, nn, withIdColumn } from '../dialect.js';

/**
 * Bounces and complaints (issue 5): raw inbound reports kept for download, one row per
 * recipient outcome, consecutive soft-bounce counts, held streams (R-BNC-4) and the
 * abuse@/postmaster@ mailbox (RFC 2142).
 */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  await withIdColumn(s.createTable('inbound_raw'), d)
    .addColumn('account_id', 'text').addColumn('kind', 'text', nn).addColumn('mail_from', 'text')
    .addColumn('rcpt_to', 'text', nn).addColumn('remote_ip', 'text').addColumn('raw', blobType(d), nn)
    .addColumn('size', 'integer', nn).addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('inbound_raw_account').on('inbound_raw').columns(['account_id', 'id']).execute();
  await withIdColumn(s.createTable('bounce_events'), d)
    .addColumn('account_id', 'text', nn).addColumn('message_id', 'bigint').addColumn('campaign_id', 'text')
    .addColumn('kind', 'text', nn).addColumn('source', 'text', nn).addColumn('address', 'text', nn)
    .addColumn('address_key', 'text', nn).addColumn('status', 'text').addColumn('class', 'text', nn)
    .addColumn('action', 'text', nn).addColumn('rule_id', 'text').addColumn('diagnostic', 'text')
    .addColumn('feedback_type', 'text').addColumn('raw_id', 'bigint').addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('bounce_events_account').on('bounce_events').columns(['account_id', 'id']).execute();
  await s.createIndex('bounce_events_address').on('bounce_events').columns(['account_id', 'address_key']).execute();
  await s.createTable('soft_bounces')
    .addColumn('account_id', 'text', nn).addColumn('address_key', 'text', nn)
    .addColumn('count', 'integer', nn).addColumn('first_at', 'bigint', nn).addColumn('last_at', 'bigint', nn)
    .addPrimaryKeyConstraint('soft_bounces_pk', ['account_id', 'address_key']).execute();
  await withIdColumn(s.createTable('send_holds'), d)
    .addColumn('account_id', 'text', nn).addColumn('domain_id', 'text', nn)
    // `subscription` holds the domain's subscription stream; `provider:<group>` throttles one provider (R-BNC-3).
    .addColumn('stream', 'text', nn).addColumn('reason', 'text', nn).addColumn('rule_id', 'text')
    .addColumn('detail', 'text').addColumn('message_id', 'bigint').addColumn('created_at', 'bigint', nn)
    .addColumn('until', 'bigint').addColumn('released_at', 'bigint').addColumn('released_by', 'text').execute();
  await s.createIndex('send_holds_domain').on('send_holds').columns(['account_id', 'domain_id', 'released_at']).execute();
  await withIdColumn(s.createTable('role_mail'), d)
    .addColumn('account_id', 'text', nn).addColumn('domain_id', 'text').addColumn('rcpt', 'text', nn)
    .addColumn('mail_from', 'text').addColumn('subject', 'text').addColumn('from_header', 'text')
    .addColumn('raw_id', 'bigint', nn).addColumn('forward_status', 'text').addColumn('forward_reply', 'text')
    .addColumn('forwarded_at', 'bigint').addColumn('created_at', 'bigint', nn).execute();
  await s.createIndex('role_mail_account').on('role_mail').columns(['account_id', 'id']).execute();
  await s.createTable('account_inbound_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey()).addColumn('role_forward_to', 'text')
    .addColumn('updated_at', 'bigint', nn).execute();
  await s.createTable('provider_hooks')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', nn)
    .addColumn('provider', 'text', nn).addColumn('secret_enc', 'text').addColumn('created_at', 'bigint', nn)
    .addColumn('last_event_at', 'bigint').addColumn('disabled_at', 'bigint').execute();
  await s.createTable('provider_events_seen')
    .addColumn('hook_id', 'text', nn).addColumn('event_key', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addPrimaryKeyConstraint('provider_events_seen_pk', ['hook_id', 'event_key']).execute();
}
