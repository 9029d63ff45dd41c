import type { Deps } from '../app/deps.js';
import { raiseAlert } from '../core/alerts.js';
import { decryptSecret } from '../domain/secrets.js';
import { withKeptLease } from '../send/lease-keeper.js';
import { runPool } from '../send/pool.js';
import { webhooksRepo, type DeliveryRow, type EndpointRow } from '../store/webhooks-repo.js';
import { nextRetryAt } from './backoff.js';
import { postWebhook, type PostResult } from './http-post.js';
import { signatureHeader } from './signing.js';
import type { LookupAll } from './url-guard.js';

/** The secrets that sign now: the current one, plus the previous one during a rotation's grace period. */
export function signingSecrets(masterKey: Buffer, ep: EndpointRow, now: number): string[] {
  const out = [decryptSecret(masterKey, ep.secret_enc, ep.id)];
  if (ep.previous_secret_enc && ep.previous_expires_at != null && Number(ep.previous_expires_at) > now) {
    out.push(decryptSecret(masterKey, ep.previous_secret_enc, `${ep.id}:previous`));
  }
  return out;
}

/** What one attempt did. */
export interface AttemptOutcome { delivery: DeliveryRow; result: PostResult | null; status: 'succeeded' | 'pending' | 'failed' }

/**
 * Sends claimed deliveries (at least once: a delivery stays leased until its outcome is written,
 * and a crashed worker's lease expires and is claimed again with the same webhook-id).
 */
export function createDeliverer(deps: Deps, opts: { owner: string; lookup: LookupAll }) {
  const cfg = deps.config.webhooks;
  const repo = webhooksRepo(deps.store);
  const log = deps.log.child({ component: 'webhooks' });

  async function endpointFailed(ep: EndpointRow, now: number, lastError: string): Promise<void> {
    const since = await repo.noteFailure(ep.id, now);
    if (since === null || now - since < cfg.disableAfterHours * 3_600_000) return;
    const reason = `failing since ${new Date(since).toISOString()}: ${lastError}`.slice(0, 500);
    if (!(await repo.disable(ep.id, now, reason))) return;
    await repo.failPending(ep.id, 'endpoint disabled', now);
    await raiseAlert(deps, ep.account_id, 'webhook_disabled', { endpoint_id: ep.id, url: ep.url, failing_since: since, last_error: lastError.slice(0, 300) });
  }

  /** One attempt of a delivery this owner holds the lease of; writes the log row and the next state. */
  async function attempt(d: DeliveryRow, ep: EndpointRow | undefined): Promise<AttemptOutcome> {
    const now = deps.clock.now();
    const isTest = d.event_type === 'test';
    if (!ep || ep.status !== 'active') {
      await repo.recordAttempt(opts.owner, null, { status: 'failed', last_error: 'endpoint disabled', updated_at: now }, Number(d.id));
      return { delivery: d, result: null, status: 'failed' };
    }
    const ts = Math.floor(now / 1000);
    const headers = {
      'webhook-id': d.webhook_id, 'webhook-timestamp': String(ts),
      'webhook-signature': signatureHeader(signingSecrets(deps.masterKey, ep, now), d.webhook_id, ts, d.payload),
    };
    const res = await postWebhook(ep.url, headers, d.payload, { timeoutMs: cfg.timeoutMs, lookup: opts.lookup, allowLocalHttp: cfg.allowLocalHttp });
    const ok = res.status !== null && res.status >= 200 && res.status < 300;
    const attempts = d.attempts + 1;
    const lastError = ok ? null : (res.error ?? `HTTP ${res.status}`);
    const next = ok || isTest ? null : nextRetryAt(Number(d.window_start), now, attempts, cfg.retryHours);
    const status = ok ? 'succeeded' : next === null ? 'failed' : 'pending';
    const written = await repo.recordAttempt(opts.owner, {
      account_id: d.account_id, delivery_id: Number(d.id), endpoint_id: d.endpoint_id, attempted_at: now,
      status_code: res.status, error: res.error, response: res.response, duration_ms: res.durationMs,
    }, {
      status, attempts, last_status_code: res.status, last_error: lastError, last_attempt_at: now, updated_at: now,
      ...(ok ? { delivered_at: now } : {}), ...(next !== null ? { next_attempt_at: next } : {}),
    }, Number(d.id));
    log.debug({ account: d.account_id, endpoint: ep.id, delivery: d.id, status, code: res.status }, 'webhook attempt');
    if (written && ok) await repo.noteSuccess(ep.id);
    // A test ping never counts towards disabling: the operator is probing on purpose.
    else if (written && !isTest) await endpointFailed(ep, now, lastError!);
    return { delivery: { ...d, status, attempts }, result: res, status };
  }

  return {
    attempt,
    /** Claims due deliveries and sends them; returns how many were claimed. */
    async tick(): Promise<number> {
      const leaseMs = cfg.leaseSeconds * 1000;
      const claimedAt = deps.clock.now();
      const claimed = await repo.claimDue(opts.owner, claimedAt, leaseMs, cfg.batchSize);
      if (!claimed.length) return 0;
      // The batch keeps its lease while slow endpoints answer (up to timeoutMs each): without it,
      // deliveries still waiting in the pool were claimed by another worker and sent twice.
      await withKeptLease({ store: deps.store, table: 'webhook_deliveries', token: opts.owner, ids: claimed.map((d) => Number(d.id)), claimedAt, leaseMs, clock: deps.clock, log }, async (keeper) => {
        const eps = new Map((await repo.endpointsByIds([...new Set(claimed.map((d) => d.endpoint_id))])).map((e) => [e.id, e]));
        await runPool(claimed, cfg.concurrency, async (d) => {
          if (!(await keeper.mayStart(Number(d.id)))) return;
          await attempt(d, eps.get(d.endpoint_id)).catch((err) => {
            // The lease expires and another tick retries it: at least once, never lost.
            log.error({ err, delivery: d.id, endpoint: d.endpoint_id }, 'webhook attempt could not be recorded');
          });
          keeper.done(Number(d.id));
        });
      });
      return claimed.length;
    },
  };
}

/** The deliverer's type. */
export type Deliverer = ReturnType<typeof createDeliverer>;
