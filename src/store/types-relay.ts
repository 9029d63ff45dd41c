import type { Generated } from 'kysely';
import type { Millis } from './types.js';

/** An SMTP credential of an account: the password is stored only as a salted hash (issue 7 item 1). */
export interface SmtpCredentialsTable {
  id: string; account_id: string; name: string; username: string; salt: string; hash: string;
  /** Messages per minute; null = relay.ratePerMinute. */
  rate_per_minute: number | null;
  /** JSON array of IPs/CIDRs allowed to use it; '[]' = any address. */
  allowed_ips: string;
  /** 1 = a connection from allowed_ips is authenticated as this credential without AUTH. */
  ip_auth: number;
  created_at: Millis; created_by: string | null; last_used_at: Millis | null; revoked_at: Millis | null;
}

/** An ordered header rule that marks relayed mail as subscription mail of a list (購読解除フィルタ). */
export interface RelayFiltersTable {
  id: string; account_id: string; position: number; name: string;
  /** Header field name, lower-cased. */
  header: string;
  match: string; value: string; list_id: string;
  created_at: Millis; updated_at: Millis;
}

/** The bytes of one accepted relayed message, stored before the 250 reply; message rows point at it. */
export interface RelayMessagesTable {
  id: Generated<number>; account_id: string; credential_id: string; filter_id: string | null;
  mail_from: string; raw: Buffer; size: number;
  /** JSON: headers to remove, one-click on/off, warnings (see core/relay-accept). */
  plan: string;
  created_at: Millis;
  /** The message rows of this message (inserted together): what pruning checks. */
  first_message_id: number | null; last_message_id: number | null;
}

/** Tables of the relay area, as Kysely sees them (see migrations). */
export interface RelayTables {
  smtp_credentials: SmtpCredentialsTable;
  relay_filters: RelayFiltersTable;
  relay_messages: RelayMessagesTable;
}
