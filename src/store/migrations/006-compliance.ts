import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { nn, withIdColumn } from '../dialect.js';

/**
 * Tables of the compliance area (issue 6): hourly send counters (rolling 24 h volume per
 * organisational domain × provider, warm-up per domain and IP pool, hourly caps), daily spam-rate
 * figures, held/paused streams with who resumed them, warm-up start dates and one-shot alert flags.
 * The daily `volume_counters` and permanent `bulk_senders` tables come from 001-initial.
 */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  // scope: 'org' (key = organisational From domain, provider set), 'domain' (key = domain id), 'ip' (key = 'pool').
  await s.createTable('send_counters_hourly')
    .addColumn('account_id', 'text', nn).addColumn('scope', 'text', nn).addColumn('key', 'text', nn)
    .addColumn('provider', 'text', nn).addColumn('hour', 'bigint', nn).addColumn('count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('send_counters_hourly_pk', ['account_id', 'scope', 'key', 'provider', 'hour']).execute();
  await s.createTable('spam_rate_daily')
    .addColumn('account_id', 'text', nn).addColumn('domain_id', 'text', nn).addColumn('day', 'text', nn)
    .addColumn('delivered', 'bigint', (c) => c.notNull().defaultTo(0)).addColumn('complaints', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('spam_rate_daily_pk', ['account_id', 'domain_id', 'day']).execute();
  await withIdColumn(s.createTable('stream_holds'), d)
    .addColumn('account_id', 'text', nn).addColumn('domain_id', 'text', nn)
    // kind: 'spam_rate' (subscription mail of the domain paused, R-CMPL-1); sender-config holds are the bounce pipeline's.
    .addColumn('kind', 'text', nn).addColumn('data', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addColumn('resumed_at', 'bigint').addColumn('resumed_by', 'text').addColumn('resume_note', 'text').execute();
  await s.createIndex('stream_holds_active').on('stream_holds').columns(['account_id', 'domain_id', 'resumed_at']).execute();
  // subject: 'domain:<id>' (account's) or 'ip:<address>' (account_id '*': the platform's IPs).
  await s.createTable('warmup_subjects')
    .addColumn('account_id', 'text', nn).addColumn('subject', 'text', nn).addColumn('started_at', 'bigint', nn)
    .addPrimaryKeyConstraint('warmup_subjects_pk', ['account_id', 'subject']).execute();
  await s.createTable('compliance_flags')
    .addColumn('account_id', 'text', nn).addColumn('flag', 'text', nn).addColumn('created_at', 'bigint', nn)
    .addPrimaryKeyConstraint('compliance_flags_pk', ['account_id', 'flag']).execute();
}
