import type { Generated } from 'kysely';

type Millis = number;

/** Sends per clock hour: scope 'org' (key = organisational domain), 'domain' (key = domain id) or 'ip' (key = 'pool'). */
export interface SendCountersHourlyTable {
  account_id: string; scope: string; key: string; provider: string; hour: Millis; count: number;
}
/** Deliveries and complaints per account, sending domain and UTC day (R-CMPL-2). */
export interface SpamRateDailyTable {
  account_id: string; domain_id: string; day: string; delivered: number; complaints: number;
}
/** A held (sender_config, R-BNC-4) or paused (spam_rate, R-CMPL-1) stream; active while resumed_at is null. */
export interface StreamHoldsTable {
  id: Generated<number>; account_id: string; domain_id: string; kind: string; data: string; created_at: Millis;
  resumed_at: Millis | null; resumed_by: string | null; resume_note: string | null;
}
/** When a domain or IP started warming up (R-VOL-1). */
export interface WarmupSubjectsTable { account_id: string; subject: string; started_at: Millis }
/** One-shot alert markers (e.g. the 4,500 near-bulk alert, one spam warning per day). */
export interface ComplianceFlagsTable { account_id: string; flag: string; created_at: Millis }

/** Tables of the compliance area, as Kysely sees them (see migrations). */
export interface ComplianceTables {
  send_counters_hourly: SendCountersHourlyTable;
  spam_rate_daily: SpamRateDailyTable;
  stream_holds: StreamHoldsTable;
  warmup_subjects: WarmupSubjectsTable;
  compliance_flags: ComplianceFlagsTable;
}
