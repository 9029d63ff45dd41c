import type { Deps } from '../app/deps.js';
import { messagesRepo } from '../store/messages-repo.js';

/** Alert kinds; each is an `alert` event (webhooks deliver them, the console lists them). */
export type AlertKind =
  | 'stream_held' | 'stream_released' | 'stream_resumed' | 'provider_throttled' | 'abuse_report'
  | 'bulk_sender_near' | 'bulk_sender' | 'spam_rate_warning' | 'spam_rate_paused' | 'warmup_set'
  | 'domain_drift' | 'webhook_disabled';

/** Records an alert as an `events` row of type `alert`: `{kind, ...data}` (one writer for every area). */
export async function raiseAlert(deps: Deps, accountId: string, kind: AlertKind, data: Record<string, unknown> = {}, campaignId: string | null = null): Promise<void> {
  await messagesRepo(deps.store).insertEvents([{
    account_id: accountId, message_id: null, campaign_id: campaignId, type: 'alert',
    data: JSON.stringify({ kind, ...data }), created_at: deps.clock.now(),
  }]);
  deps.log.warn({ account: accountId, kind, ...data }, 'alert');
}
