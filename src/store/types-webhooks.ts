import type { Generated } from 'kysely';

type Millis = number;

/** Tables of the webhooks area, as Kysely sees them (see migrations/005-webhooks.ts). */
export interface WebhookTables {
  webhook_endpoints: {
    id: string; account_id: string; url: string; description: string; event_types: string; status: string;
    secret_enc: string; previous_secret_enc: string | null; previous_expires_at: Millis | null;
    failing_since: Millis | null; consecutive_failures: number; disabled_at: Millis | null; disabled_reason: string | null;
    created_at: Millis; updated_at: Millis;
  };
  webhook_deliveries: {
    id: Generated<number>; webhook_id: string; account_id: string; endpoint_id: string; event_type: string; source: string;
    payload: string; status: string; attempts: number; next_attempt_at: Millis; window_start: Millis;
    lease_owner: string | null; lease_until: Millis | null; last_status_code: number | null; last_error: string | null;
    last_attempt_at: Millis | null; delivered_at: Millis | null; created_at: Millis; updated_at: Millis;
  };
  webhook_attempts: {
    id: Generated<number>; account_id: string; delivery_id: number; endpoint_id: string; attempted_at: Millis;
    status_code: number | null; error: string | null; response: string | null; duration_ms: number;
  };
  webhook_cursors: { name: string; last_id: number; gap_seen_at: Millis | null };
}
