import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './db.js';
import type { WebhookTables } from './types-webhooks.js';

/** An endpoint row (secrets encrypted). */
export type EndpointRow = Selectable<WebhookTables['webhook_endpoints']>;
/** A delivery row. */
export type DeliveryRow = Selectable<WebhookTables['webhook_deliveries']>;
/** A new delivery row. */
export type NewDelivery = Insertable<WebhookTables['webhook_deliveries']>;
/** One attempt in the delivery log. */
export type AttemptRow = Selectable<WebhookTables['webhook_attempts']>;

/** Filters of the delivery log. */
export interface DeliveryFilter { status?: string; eventType?: string; after?: number; limit: number }

/** Webhook endpoints, deliveries (a leased work queue), the attempt log and the dispatcher cursors. */
export function webhooksRepo({ db, dialect }: Db) {
  return {
    insertEndpoint: (row: EndpointRow) => db.insertInto('webhook_endpoints').values(row).execute(),
    getEndpoint: (accountId: string, id: string) =>
      db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    listEndpoints: (accountId: string) =>
      db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute(),
    countEndpoints: async (accountId: string) => Number((await db.selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n),
    async updateEndpoint(accountId: string, id: string, set: Updateable<WebhookTables['webhook_endpoints']>): Promise<boolean> {
      const r = await db.updateTable('webhook_endpoints').set(set).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Removes an endpoint with its deliveries and their log. */
    async deleteEndpoint(accountId: string, id: string): Promise<void> {
      await db.deleteFrom('webhook_attempts').where('account_id', '=', accountId).where('endpoint_id', '=', id).execute();
      await db.deleteFrom('webhook_deliveries').where('account_id', '=', accountId).where('endpoint_id', '=', id).execute();
      await db.deleteFrom('webhook_endpoints').where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    /** Every active endpoint (all accounts): the fan-out matches events against them. */
    activeEndpoints: () => db.selectFrom('webhook_endpoints').selectAll().where('status', '=', 'active').execute(),
    endpointsByIds: (ids: string[]) =>
      ids.length ? db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute() : Promise.resolve([]),

    /**
     * The cursor row, locked on PostgreSQL so concurrent dispatchers take turns; undefined while
     * another dispatcher holds it (SKIP LOCKED: that one is reading this source, so waiting for
     * its commit would only hold a connection and then find nothing new).
     */
    async lockCursor(name: string) {
      const q = db.selectFrom('webhook_cursors').selectAll().where('name', '=', name);
      return dialect === 'postgres' ? q.forUpdate().skipLocked().executeTakeFirst() : q.executeTakeFirstOrThrow();
    },
    /** Conditional advance: false when another dispatcher moved the cursor meanwhile. */
    async advanceCursor(name: string, from: number, to: number, gapSeenAt: number | null): Promise<boolean> {
      const r = await db.updateTable('webhook_cursors').set({ last_id: to, gap_seen_at: gapSeenAt })
        .where('name', '=', name).where('last_id', '=', from).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Events after the cursor with their message's recipient and headers' Message-ID. */
    eventsAfter: (after: number, limit: number) =>
      db.selectFrom('events').leftJoin('messages', 'messages.id', 'events.message_id')
        .select(['events.id', 'events.account_id', 'events.message_id', 'events.campaign_id', 'events.type', 'events.data', 'events.created_at',
          'messages.rcpt', 'messages.message_id as header_message_id', 'messages.list_id', 'messages.category', 'messages.campaign_id as message_campaign_id'])
        .where('events.id', '>', after).orderBy('events.id').limit(limit).execute(),
    /** Only the ids after the cursor (the fan-out's path while no endpoint is active). */
    idsAfter: async (source: 'events' | 'suppression_history', after: number, limit: number) =>
      (await db.selectFrom(source).select('id').where('id', '>', after).orderBy('id').limit(limit).execute()).map((r) => Number(r.id)),
    historyAfter: (after: number, limit: number) =>
      db.selectFrom('suppression_history').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute(),

    /** Inserts deliveries; one per (endpoint, source) even if two dispatchers fan out the same event. */
    async insertDeliveries(rows: NewDelivery[]): Promise<number> {
      let n = 0;
      for (let i = 0; i < rows.length; i += 200) {
        const r = await db.insertInto('webhook_deliveries').values(rows.slice(i, i + 200))
          .onConflict((oc) => oc.columns(['endpoint_id', 'source']).doNothing()).executeTakeFirst();
        n += Number(r.numInsertedOrUpdatedRows ?? 0);
      }
      return n;
    },
    /**
     * Claims due deliveries under a lease: pending ones whose time has come and `delivering` ones
     * whose lease expired (a crashed worker). PostgreSQL skips rows another worker is claiming.
     */
    async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<DeliveryRow[]> {
      const out: DeliveryRow[] = [];
      for (const status of ['delivering', 'pending'] as const) {
        if (out.length >= limit) break;
        let sub = db.selectFrom('webhook_deliveries').select('id').where('status', '=', status);
        sub = status === 'delivering' ? sub.where('lease_until', '<', now) : sub.where('next_attempt_at', '<=', now).orderBy('next_attempt_at');
        sub = sub.limit(limit - out.length);
        if (dialect === 'postgres') sub = sub.forUpdate().skipLocked();
        out.push(...await db.updateTable('webhook_deliveries')
          .set({ status: 'delivering', lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
          // The status test again: on SQLite the sub-select and the update are one statement; on PostgreSQL it guards a re-read row.
          .where('id', 'in', sub).where('status', '=', status).returningAll().execute());
      }
      return out;
    },
    /** Writes an attempt's log row (if any) and the delivery's new state, only while this owner holds the lease. */
    async recordAttempt(owner: string, attempt: Insertable<WebhookTables['webhook_attempts']> | null, set: Updateable<WebhookTables['webhook_deliveries']>, deliveryId: number): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const r = await tx.updateTable('webhook_deliveries').set({ ...set, lease_owner: null, lease_until: null })
          .where('id', '=', deliveryId).where('lease_owner', '=', owner).where('status', '=', 'delivering').executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        if (attempt) await tx.insertInto('webhook_attempts').values(attempt).execute();
        return true;
      });
    },
    /** A success ends an endpoint's failing streak. */
    noteSuccess: (endpointId: string) =>
      db.updateTable('webhook_endpoints').set({ failing_since: null, consecutive_failures: 0 }).where('id', '=', endpointId).execute(),
    /** A failure starts or extends the streak; returns when it started. */
    async noteFailure(endpointId: string, now: number): Promise<number | null> {
      const r = await db.updateTable('webhook_endpoints')
        .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', eb.val(now)), consecutive_failures: eb('consecutive_failures', '+', 1) }))
        .where('id', '=', endpointId).returning(['failing_since']).executeTakeFirst();
      return r?.failing_since == null ? null : Number(r.failing_since);
    },
    /** Disables an active endpoint; true only for the call that did it (one alert). */
    async disable(endpointId: string, now: number, reason: string): Promise<boolean> {
      const r = await db.updateTable('webhook_endpoints').set({ status: 'disabled', disabled_at: now, disabled_reason: reason, updated_at: now })
        .where('id', '=', endpointId).where('status', '=', 'active').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Fails every pending delivery of an endpoint (it was disabled). */
    failPending: (endpointId: string, reason: string, now: number) =>
      db.updateTable('webhook_deliveries').set({ status: 'failed', last_error: reason, updated_at: now })
        .where('endpoint_id', '=', endpointId).where('status', '=', 'pending').execute(),
    insertDelivery: async (row: NewDelivery) => db.insertInto('webhook_deliveries').values(row).returningAll().executeTakeFirstOrThrow(),
    getDelivery: (accountId: string, endpointId: string, id: number) =>
      db.selectFrom('webhook_deliveries').selectAll().where('account_id', '=', accountId).where('endpoint_id', '=', endpointId).where('id', '=', id).executeTakeFirst(),
    listDeliveries(accountId: string, endpointId: string, f: DeliveryFilter) {
      let q = db.selectFrom('webhook_deliveries').selectAll().where('account_id', '=', accountId).where('endpoint_id', '=', endpointId);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.eventType) q = q.where('event_type', '=', f.eventType);
      if (f.after) q = q.where('id', '<', f.after);
      return q.orderBy('id', 'desc').limit(f.limit).execute();
    },
    attemptsOf: (accountId: string, deliveryIds: number[]) =>
      deliveryIds.length
        ? db.selectFrom('webhook_attempts').selectAll().where('account_id', '=', accountId).where('delivery_id', 'in', deliveryIds).orderBy('id').execute()
        : Promise.resolve([] as AttemptRow[]),
    /** Deletes up to `limit` finished deliveries last touched before `before`, with their attempts. */
    async purgeFinished(before: number, limit: number): Promise<number> {
      const ids = (await db.selectFrom('webhook_deliveries').select('id').where('status', 'in', ['succeeded', 'failed'])
        .where('updated_at', '<', before).limit(limit).execute()).map((r) => Number(r.id));
      if (!ids.length) return 0;
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
        await tx.deleteFrom('webhook_deliveries').where('id', 'in', ids).where('status', 'in', ['succeeded', 'failed']).execute();
      });
      return ids.length;
    },
    /** Queues a delivery again now, with a fresh retry window; not while an attempt is in flight. */
    async requeue(accountId: string, endpointId: string, id: number, now: number): Promise<boolean> {
      const r = await db.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: now, window_start: now, updated_at: now })
        .where('account_id', '=', accountId).where('endpoint_id', '=', endpointId).where('id', '=', id)
        .where('status', '!=', 'delivering').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}

/** The webhooks repository's type. */
export type WebhooksRepo = ReturnType<typeof webhooksRepo>;
