import type { Generated } from 'kysely';
import type { BounceTables } from './types-bounces.js';
import type { DmarcTables } from './types-dmarc.js';
import type { RelayTables } from './types-relay.js';
import type { WebhookTables } from './types-webhooks.js';
import type { SuppressionImportTables } from './types-suppression-imports.js';
import type { ComplianceTables } from './types-compliance.js';
import type { ConsoleTables } from './types-console.js';

/** Epoch milliseconds; every timestamp column uses it so both dialects agree. */
export type Millis = number;

export interface AccountsTable { id: string; name: string; created_at: Millis }
export interface UsersTable {
  id: string; account_id: string; email: string; password_hash: string; role: string;
  created_at: Millis; disabled_at: Millis | null; last_login_at: Millis | null;
}
export interface SessionsTable {
  id: string; account_id: string; user_id: string; csrf: string; created_at: Millis; expires_at: Millis;
}
export interface ApiKeysTable {
  id: string; account_id: string; name: string; salt: string; hash: string; scopes: string;
  created_at: Millis; last_used_at: Millis | null; revoked_at: Millis | null; created_by: string | null;
}
export interface DomainsTable {
  id: string; account_id: string; name: string; return_path_domain: string; unsubscribe_host: string | null;
  status: string; test_mode: number; check_json: string | null; checked_at: Millis | null;
  created_at: Millis; verified_at: Millis | null;
}
export interface DkimKeysTable {
  id: string; account_id: string; domain_id: string; selector: string; algorithm: string;
  public_key: string; private_key_enc: string; status: string; created_at: Millis; retired_at: Millis | null;
}
export interface ListsTable {
  id: string; account_id: string; name: string; label: string; description: string;
  created_at: Millis; updated_at: Millis;
}
export interface ContactsTable {
  id: Generated<number>; account_id: string; address: string; address_key: string; attributes: string;
  created_at: Millis; updated_at: Millis;
}
export interface SubscriptionsTable {
  id: Generated<number>; account_id: string; list_id: string; contact_id: number; status: string;
  consent_source: string | null; consent_at: Millis | null; consent_ip: string | null; confirmed_at: Millis | null;
  unsubscribed_at: Millis | null; created_at: Millis; updated_at: Millis;
}
export interface SuppressionsTable {
  id: Generated<number>; account_id: string; address_key: string; scope: string; list_id: string;
  reason: string; source: string; note: string | null; ip: string | null; user_agent: string | null; created_at: Millis;
  /** The bulk import that wrote the entry (it has no history row of its own; migration 008). */
  import_id: string | null;
}
export interface SuppressionHistoryTable {
  id: Generated<number>; account_id: string; address_key: string; action: string; scope: string; list_id: string;
  reason: string | null; source: string; note: string | null; ip: string | null; user_agent: string | null; created_at: Millis;
  /** Set on the copy of an imported entry's add, written when the entry is removed (migration 008). */
  import_id: string | null;
}
export interface TemplatesTable {
  id: string; account_id: string; name: string; subject: string; html: string | null; text: string | null;
  created_at: Millis; updated_at: Millis;
}
export interface CampaignsTable {
  id: string; account_id: string; name: string; status: string; category: string; list_ids: string;
  from_address: string; reply_to: string | null; subject: string; html: string | null; text: string | null;
  template_id: string | null; headers_json: string | null; scheduled_at: Millis | null;
  lease_owner: string | null; lease_until: Millis | null; plan_cursor: string | null; planned: number;
  created_at: Millis; updated_at: Millis; started_at: Millis | null; finished_at: Millis | null;
}
export interface ContentsTable { id: Generated<number>; account_id: string; data: string; created_at: Millis }
export interface MessagesTable {
  id: Generated<number>; account_id: string; campaign_id: string | null; content_id: number | null;
  list_id: string | null; contact_id: number | null; category: string; domain_id: string | null;
  from_address: string; rcpt: string; rcpt_key: string; data: string | null; message_id: string; status: string;
  reason: string | null; attempts: number; next_attempt_at: Millis; lease_owner: string | null;
  lease_until: Millis | null; last_reply: string | null; created_at: Millis; updated_at: Millis; sent_at: Millis | null;
}
export interface EventsTable {
  id: Generated<number>; account_id: string; message_id: number | null; campaign_id: string | null;
  type: string; data: string | null; created_at: Millis;
}
export interface CapturedTable {
  id: Generated<number>; account_id: string; message_id: number | null; mail_from: string; rcpt_to: string;
  raw: Buffer; size: number; created_at: Millis;
}
export interface IdempotencyTable {
  account_id: string; key: string; request_hash: string; response: string; created_at: Millis;
}
export interface VolumeCountersTable {
  account_id: string; org_domain: string; provider: string; day: string; count: number;
}
export interface BulkSendersTable { account_id: string; org_domain: string; provider: string; since: Millis }
export interface SettingsTable { key: string; value: string }

/** The whole schema, as Kysely sees it. */
export interface DB extends BounceTables, DmarcTables, RelayTables, WebhookTables, ComplianceTables, ConsoleTables, SuppressionImportTables {
  accounts: AccountsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  domains: DomainsTable;
  dkim_keys: DkimKeysTable;
  lists: ListsTable;
  contacts: ContactsTable;
  subscriptions: SubscriptionsTable;
  suppressions: SuppressionsTable;
  suppression_history: SuppressionHistoryTable;
  templates: TemplatesTable;
  campaigns: CampaignsTable;
  contents: ContentsTable;
  messages: MessagesTable;
  events: EventsTable;
  captured: CapturedTable;
  idempotency: IdempotencyTable;
  volume_counters: VolumeCountersTable;
  bulk_senders: BulkSendersTable;
  settings: SettingsTable;
}
