import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { encryptSecret, decryptSecret } from '../domain/secrets.js';
import { webhooksRepo, type DeliveryRow, type EndpointRow } from '../store/webhooks-repo.js';
import { createDeliverer } from '../webhooks/deliver.js';
import { EVENT_TYPES, generateSecret, secretKey } from '../webhooks/signing.js';
import { systemLookup, validateEndpointUrl, type LookupAll } from '../webhooks/url-guard.js';

/** Input of create and update. */
export interface EndpointInput {
  url?: string;
  description?: string;
  /** Event types, or ['*'] for all of them. */
  eventTypes?: string[];
  /** Re-enable a disabled endpoint, or pause one. */
  status?: 'active' | 'disabled';
}

function eventTypes(v: string[] | undefined): string[] {
  if (!v || !v.length) fail('E_VALIDATION', `event_types: name at least one of ${EVENT_TYPES.join(', ')}, or *`);
  const bad = v.filter((t) => t !== '*' && !(EVENT_TYPES as readonly string[]).includes(t));
  if (bad.length) fail('E_VALIDATION', `event_types: unknown ${bad.join(', ')} (known: ${EVENT_TYPES.join(', ')}, *)`);
  return v.includes('*') ? ['*'] : [...new Set(v)];
}

function checkSecret(secret: string): string {
  if (!secretKey(secret)) fail('E_WEBHOOK_SECRET');
  return secret;
}

/** The API shape of an endpoint: never a secret (it is shown once, on create and rotate). */
export function publicEndpoint(e: EndpointRow) {
  return {
    id: e.id, url: e.url, description: e.description, event_types: JSON.parse(e.event_types) as string[], status: e.status,
    failing_since: e.failing_since, consecutive_failures: Number(e.consecutive_failures), disabled_at: e.disabled_at, disabled_reason: e.disabled_reason,
    previous_secret_expires_at: e.previous_secret_enc ? e.previous_expires_at : null, created_at: e.created_at, updated_at: e.updated_at,
  };
}

/** The API shape of a delivery. */
export function publicDelivery(d: DeliveryRow) {
  return {
    id: Number(d.id), webhook_id: d.webhook_id, endpoint_id: d.endpoint_id, event_type: d.event_type, status: d.status,
    attempts: Number(d.attempts), next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null, last_status_code: d.last_status_code,
    last_error: d.last_error, last_attempt_at: d.last_attempt_at, delivered_at: d.delivered_at, created_at: d.created_at, payload: JSON.parse(d.payload) as unknown,
  };
}

/** Signed event webhooks (issue 10): endpoints, secrets, the delivery log, redelivery and test pings. */
export function webhooksCore(deps: Deps, opts: { lookup?: LookupAll } = {}) {
  const repo = webhooksRepo(deps.store);
  const cfg = () => deps.config.webhooks;
  const owner = `core:${newId()}`;
  const deliverer = createDeliverer(deps, { owner, lookup: opts.lookup ?? systemLookup });

  async function must(accountId: string, id: string): Promise<EndpointRow> {
    const e = await repo.getEndpoint(accountId, id);
    if (!e) fail('E_NOT_FOUND', 'webhook endpoint not found');
    return e;
  }

  return {
    /** Creates an endpoint; the response carries the signing secret, which is never shown again. */
    async create(accountId: string, input: EndpointInput & { url: string; secret?: string }) {
      const url = validateEndpointUrl(input.url, cfg().allowLocalHttp).toString();
      const types = eventTypes(input.eventTypes ?? ['*']);
      if ((input.description ?? '').length > 500) fail('E_VALIDATION', 'description: at most 500 characters');
      const secret = input.secret ? checkSecret(input.secret) : generateSecret();
      if (await repo.countEndpoints(accountId) >= cfg().maxEndpointsPerAccount) fail('E_STATE', `at most ${cfg().maxEndpointsPerAccount} webhook endpoints per account`);
      const id = newId('wh_');
      const now = deps.clock.now();
      await repo.insertEndpoint({
        id, account_id: accountId, url, description: input.description ?? '', event_types: JSON.stringify(types), status: 'active',
        secret_enc: encryptSecret(deps.masterKey, secret, id), previous_secret_enc: null, previous_expires_at: null,
        failing_since: null, consecutive_failures: 0, disabled_at: null, disabled_reason: null, created_at: now, updated_at: now,
      });
      return { ...publicEndpoint(await must(accountId, id)), secret };
    },
    list: async (accountId: string) => (await repo.listEndpoints(accountId)).map(publicEndpoint),
    get: async (accountId: string, id: string) => publicEndpoint(await must(accountId, id)),
    /** Changes URL, description, filter or status; re-enabling clears the failure streak. */
    async update(accountId: string, id: string, input: EndpointInput) {
      const e = await must(accountId, id);
      const now = deps.clock.now();
      const set: Parameters<typeof repo.updateEndpoint>[2] = { updated_at: now };
      if (input.url !== undefined) set.url = validateEndpointUrl(input.url, cfg().allowLocalHttp).toString();
      if (input.eventTypes !== undefined) set.event_types = JSON.stringify(eventTypes(input.eventTypes));
      if (input.description !== undefined) {
        if (input.description.length > 500) fail('E_VALIDATION', 'description: at most 500 characters');
        set.description = input.description;
      }
      if (input.status === 'active' && e.status !== 'active') Object.assign(set, { status: 'active', disabled_at: null, disabled_reason: null, failing_since: null, consecutive_failures: 0 });
      if (input.status === 'disabled' && e.status !== 'disabled') Object.assign(set, { status: 'disabled', disabled_at: now, disabled_reason: 'disabled by the account' });
      await repo.updateEndpoint(accountId, id, set);
      return publicEndpoint(await must(accountId, id));
    },
    async remove(accountId: string, id: string) {
      await must(accountId, id);
      await deps.store.db.transaction().execute((tx) => webhooksRepo({ ...deps.store, db: tx }).deleteEndpoint(accountId, id));
    },
    /**
     * New signing secret; the previous one keeps signing alongside it for rotationGraceHours
     * (both signatures in webhook-signature), so receivers can switch without losing a delivery.
     */
    async rotateSecret(accountId: string, id: string, input: { secret?: string } = {}) {
      const e = await must(accountId, id);
      const secret = input.secret ? checkSecret(input.secret) : generateSecret();
      const now = deps.clock.now();
      const grace = cfg().rotationGraceHours * 3_600_000;
      const previous = decryptSecret(deps.masterKey, e.secret_enc, e.id);
      await repo.updateEndpoint(accountId, id, {
        secret_enc: encryptSecret(deps.masterKey, secret, e.id),
        previous_secret_enc: grace > 0 ? encryptSecret(deps.masterKey, previous, `${e.id}:previous`) : null,
        previous_expires_at: grace > 0 ? now + grace : null, updated_at: now,
      });
      return { ...publicEndpoint(await must(accountId, id)), secret };
    },
    /** The delivery log, newest first, each delivery with its attempts. */
    async deliveries(accountId: string, id: string, f: { status?: string; eventType?: string; after?: number; limit?: number } = {}) {
      await must(accountId, id);
      const limit = f.limit ?? 50;
      const rows = await repo.listDeliveries(accountId, id, { ...f, limit });
      const attempts = await repo.attemptsOf(accountId, rows.map((r) => Number(r.id)));
      const items = rows.map((d) => ({
        ...publicDelivery(d),
        attempt_log: attempts.filter((a) => Number(a.delivery_id) === Number(d.id)).map((a) => ({
          at: a.attempted_at, status_code: a.status_code, error: a.error, response: a.response, duration_ms: a.duration_ms,
        })),
      }));
      return { items, next_cursor: rows.length === limit ? String(rows[rows.length - 1].id) : null };
    },
    /** Queues a delivery again now with the same webhook-id (receivers deduplicate on it). */
    async redeliver(accountId: string, id: string, deliveryId: number) {
      const e = await must(accountId, id);
      if (e.status !== 'active') fail('E_STATE', 'the endpoint is disabled: enable it first');
      const d = await repo.getDelivery(accountId, id, deliveryId);
      if (!d) fail('E_NOT_FOUND', 'delivery not found');
      if (!(await repo.requeue(accountId, id, deliveryId, deps.clock.now()))) fail('E_STATE', 'an attempt of this delivery is in flight');
      return publicDelivery((await repo.getDelivery(accountId, id, deliveryId))!);
    },
    /** Sends a signed `test` event now and reports the outcome (logged like any delivery, never retried). */
    async test(accountId: string, id: string) {
      const e = await must(accountId, id);
      if (e.status !== 'active') fail('E_STATE', 'the endpoint is disabled: enable it first');
      const now = deps.clock.now();
      const payload = JSON.stringify({ type: 'test', timestamp: new Date(now).toISOString(), data: { endpoint_id: id, message: 'tegami webhook test' } });
      const d = await repo.insertDelivery({
        webhook_id: newId('msg_', now), account_id: accountId, endpoint_id: id, event_type: 'test', source: `test:${newId()}`, payload,
        status: 'delivering', attempts: 0, next_attempt_at: now, window_start: now, lease_owner: owner, lease_until: now + cfg().leaseSeconds * 1000,
        created_at: now, updated_at: now,
      });
      const out = await deliverer.attempt(d, e);
      return { delivery: publicDelivery((await repo.getDelivery(accountId, id, Number(d.id)))!), status_code: out.result?.status ?? null, error: out.result?.error ?? null };
    },
  };
}

/** The webhooks core's type. */
export type WebhooksCore = ReturnType<typeof webhooksCore>;
