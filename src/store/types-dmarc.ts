import type { Generated } from 'kysely';

/** A stored aggregate report (epoch-ms dates; JSON columns hold the normalised parts). */
export interface DmarcReportsTable {
  id: string; account_id: string; reporter: string; org_name: string; email: string; extra_contact_info: string;
  report_id: string; policy_domain: string; date_begin: number; date_end: number; version: string; namespace: string;
  policy_json: string; errors_json: string; record_count: number; message_count: number; pass_count: number;
  source: string; filename: string; created_at: number;
}

/** One `<record>` of a stored report. */
export interface DmarcRecordsTable {
  id: Generated<number>; account_id: string; report_id: string; source_ip: string; count: number;
  disposition: string; dkim: string; spf: string; reasons_json: string; header_from: string;
  envelope_from: string; envelope_to: string; dkim_json: string; spf_json: string;
}

/** Tables of the dmarc area, as Kysely sees them (see migrations/003-dmarc.ts). */
export interface DmarcTables {
  dmarc_reports: DmarcReportsTable;
  dmarc_records: DmarcRecordsTable;
}
