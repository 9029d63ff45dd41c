import type { Generated } from 'kysely';

type Millis = number;

/** Tables of the bounces area, as Kysely sees them (see migrations/002-bounces.ts). */
export interface BounceTables {
  inbound_raw: {
    id: Generated<number>; account_id: string | null; kind: string; mail_from: string | null; rcpt_to: string;
    remote_ip: string | null; raw: Buffer; size: number; created_at: Millis;
  };
  bounce_events: {
    id: Generated<number>; account_id: string; message_id: number | null; campaign_id: string | null;
    kind: string; source: string; address: string; address_key: string; status: string | null; class: string;
    action: string; rule_id: string | null; diagnostic: string | null; feedback_type: string | null;
    raw_id: number | null; created_at: Millis;
  };
  soft_bounces: { account_id: string; address_key: string; count: number; first_at: Millis; last_at: Millis };
  send_holds: {
    id: Generated<number>; account_id: string; domain_id: string; stream: string; reason: string; rule_id: string | null;
    detail: string | null; message_id: number | null; created_at: Millis; until: Millis | null;
    released_at: Millis | null; released_by: string | null;
  };
  role_mail: {
    id: Generated<number>; account_id: string; domain_id: string | null; rcpt: string; mail_from: string | null;
    subject: string | null; from_header: string | null; raw_id: number; forward_status: string | null;
    forward_reply: string | null; forwarded_at: Millis | null; created_at: Millis;
  };
  account_inbound_settings: { account_id: string; role_forward_to: string | null; updated_at: Millis };
  provider_hooks: {
    id: string; account_id: string; provider: string; secret_enc: string | null; created_at: Millis;
    last_event_at: Millis | null; disabled_at: Millis | null;
  };
  provider_events_seen: { hook_id: string; event_key: string; created_at: Millis };
}
