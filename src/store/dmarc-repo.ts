import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db } from './db.js';
import type { DmarcRecordsTable, DmarcReportsTable } from './types-dmarc.js';

/** A stored report row. */
export type DmarcReportRow = Selectable<DmarcReportsTable>;
/** A stored record row. */
export type DmarcRecordRow = Selectable<DmarcRecordsTable>;

/** Filters of the report list (dates in epoch ms; a report matches when its range overlaps). */
export interface DmarcReportFilter { domain?: string; from?: number; to?: number; before?: string; limit: number }

/** Records summed over identical rows per report start (for the daily series): the analysis input, compressed by the database. */
export interface DmarcRecordGroup {
  source_ip: string; header_from: string; envelope_from: string; disposition: string; dkim: string; spf: string;
  dkim_json: string; spf_json: string; reasons_json: string; policy_json: string; date_begin: number; count: number; reports: number;
}

/** 500 rows x 14 columns stays well under SQLite's 32,766 bound variables. */
const CHUNK = 500;

/** DMARC aggregate reports and their records; every query is scoped to the account. */
export function dmarcRepo({ db }: Db) {
  return {
    /** Inserts the report unless (account, reporter, report id) exists; true when inserted. */
    async insertReport(row: DmarcReportsTable): Promise<boolean> {
      const r = await db.insertInto('dmarc_reports').values(row)
        .onConflict((oc) => oc.columns(['account_id', 'reporter', 'report_id']).doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async insertRecords(rows: Insertable<DmarcRecordsTable>[]): Promise<void> {
      for (let i = 0; i < rows.length; i += CHUNK) await db.insertInto('dmarc_records').values(rows.slice(i, i + CHUNK)).execute();
    },
    byKey: (accountId: string, reporter: string, reportId: string) =>
      db.selectFrom('dmarc_reports').selectAll().where('account_id', '=', accountId).where('reporter', '=', reporter)
        .where('report_id', '=', reportId).executeTakeFirst(),
    get: (accountId: string, id: string) =>
      db.selectFrom('dmarc_reports').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    records: (accountId: string, reportId: string) =>
      db.selectFrom('dmarc_records').selectAll().where('account_id', '=', accountId).where('report_id', '=', reportId).orderBy('id').execute(),
    /** Newest first, keyset-paged by id (ids are time-ordered). */
    list(accountId: string, f: DmarcReportFilter) {
      let q = db.selectFrom('dmarc_reports').selectAll().where('account_id', '=', accountId);
      if (f.domain) q = q.where('policy_domain', '=', f.domain);
      if (f.from !== undefined) q = q.where('date_end', '>=', f.from);
      if (f.to !== undefined) q = q.where('date_begin', '<', f.to);
      if (f.before) q = q.where('id', '<', f.before);
      return q.orderBy('id', 'desc').limit(f.limit).execute();
    },
    /** The reports of a domain in a period (for coverage: days, reporters, published policy). */
    reportsFor(accountId: string, domain: string, from: number, to: number) {
      return db.selectFrom('dmarc_reports')
        .select(['id', 'org_name', 'reporter', 'date_begin', 'date_end', 'policy_json', 'message_count', 'pass_count', 'created_at'])
        .where('account_id', '=', accountId).where('policy_domain', '=', domain)
        .where('date_end', '>=', from).where('date_begin', '<', to).orderBy('date_begin').execute();
    },
    /** Identical records of the period summed in SQL, so analysis reads groups, not every row. */
    async recordGroups(accountId: string, domain: string, from: number, to: number): Promise<DmarcRecordGroup[]> {
      const rows = await db.selectFrom('dmarc_records as r').innerJoin('dmarc_reports as p', 'p.id', 'r.report_id')
        .select(['r.source_ip', 'r.header_from', 'r.envelope_from', 'r.disposition', 'r.dkim', 'r.spf', 'r.dkim_json', 'r.spf_json', 'r.reasons_json', 'p.policy_json', 'p.date_begin'])
        .select([sql<number>`sum(r.count)`.as('count'), sql<number>`count(distinct r.report_id)`.as('reports')])
        .where('r.account_id', '=', accountId).where('p.account_id', '=', accountId).where('p.policy_domain', '=', domain)
        .where('p.date_end', '>=', from).where('p.date_begin', '<', to)
        .groupBy(['r.source_ip', 'r.header_from', 'r.envelope_from', 'r.disposition', 'r.dkim', 'r.spf', 'r.dkim_json', 'r.spf_json', 'r.reasons_json', 'p.policy_json', 'p.date_begin'])
        .execute();
      return rows.map((r) => ({ ...r, date_begin: Number(r.date_begin), count: Number(r.count), reports: Number(r.reports) }));
    },
    /** Domains with reports, for the console's domain picker. */
    domains: (accountId: string) =>
      db.selectFrom('dmarc_reports').select(['policy_domain', sql<number>`count(*)`.as('reports'), sql<number>`max(date_end)`.as('last_end')])
        .where('account_id', '=', accountId).groupBy('policy_domain').orderBy('policy_domain').execute(),
  };
}
