import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { nn, withIdColumn } from '../dialect.js';

/**
 * DMARC aggregate reports (issue 9): one row per report, unique per account, reporter and report
 * id (a duplicate is ignored), and one row per `<record>`. Dates are epoch milliseconds.
 */
export async function up(db: Kysely<any>, d: Dialect): Promise<void> {
  const s = db.schema;
  await s.createTable('dmarc_reports')
    .addColumn('id', 'text', (c) => c.primaryKey()).addColumn('account_id', 'text', nn)
    .addColumn('reporter', 'text', nn).addColumn('org_name', 'text', nn).addColumn('email', 'text', nn)
    .addColumn('extra_contact_info', 'text', nn).addColumn('report_id', 'text', nn)
    .addColumn('policy_domain', 'text', nn).addColumn('date_begin', 'bigint', nn).addColumn('date_end', 'bigint', nn)
    .addColumn('version', 'text', nn).addColumn('namespace', 'text', nn).addColumn('policy_json', 'text', nn)
    .addColumn('errors_json', 'text', nn).addColumn('record_count', 'integer', nn).addColumn('message_count', 'bigint', nn)
    .addColumn('pass_count', 'bigint', nn).addColumn('source', 'text', nn).addColumn('filename', 'text', nn)
    .addColumn('created_at', 'bigint', nn)
    .addUniqueConstraint('dmarc_reports_reporter_id', ['account_id', 'reporter', 'report_id']).execute();
  await s.createIndex('dmarc_reports_domain').on('dmarc_reports').columns(['account_id', 'policy_domain', 'date_begin']).execute();
  await s.createIndex('dmarc_reports_account_id').on('dmarc_reports').columns(['account_id', 'id']).execute();
  await withIdColumn(s.createTable('dmarc_records'), d)
    .addColumn('account_id', 'text', nn).addColumn('report_id', 'text', nn)
    .addColumn('source_ip', 'text', nn).addColumn('count', 'bigint', nn).addColumn('disposition', 'text', nn)
    .addColumn('dkim', 'text', nn).addColumn('spf', 'text', nn).addColumn('reasons_json', 'text', nn)
    .addColumn('header_from', 'text', nn).addColumn('envelope_from', 'text', nn).addColumn('envelope_to', 'text', nn)
    .addColumn('dkim_json', 'text', nn).addColumn('spf_json', 'text', nn).execute();
  await s.createIndex('dmarc_records_report').on('dmarc_records').columns(['report_id']).execute();
}
