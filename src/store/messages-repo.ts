import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Insertable, Selectable, SelectQueryBuilder } from 'kysely';
import type { Db } from './db.js';
import type { DB, EventsTable, MessagesTable } from './types.js';

type SelectIds = SelectQueryBuilder<DB, 'messages', { id: number }>;

/** A message row as read. */
export type MessageRow = Selectable<MessagesTable>;
/** A new message row. */
export type NewMessage = Insertable<MessagesTable>;
/** A new event row. */
export type NewEvent = Insertable<EventsTable>;

/** The outcome of one transmission attempt, as recorded. */
export interface AttemptRecord {
  id: number;
  /**
   * `held`: the guard kept it back; it goes back to `queued` until nextAttemptAt, attempts unchanged.
   * `paused`: its campaign is paused; it waits in `paused` for the resume, attempts unchanged.
   * `released`: claimed but not transmitted (the worker is stopping, or its lease ran out); back
   * to `queued`, due now, attempts unchanged.
   */
  status: 'sent' | 'deferred' | 'bounced' | 'failed' | 'skipped' | 'held' | 'paused' | 'released';
  reason: string | null;
  lastReply: string | null;
  nextAttemptAt?: number;
  /** Every attempt has its event; a hold (not an attempt) has none. */
  event: NewEvent | null;
}

/** A guard's hold and a campaign's pause are not attempts: the attempt count and the last reply stay. */
export const notAnAttempt = (status: AttemptRecord['status']): status is 'held' | 'paused' | 'released' => status === 'held' || status === 'paused' || status === 'released';

const ACTIVE = ['queued', 'deferred', 'sending', 'paused'] as const;

/**
 * Rows a campaign's pause, resume or cancel moves per statement: on SQLite one statement over a
 * 1,000,000-message campaign held the event loop for seconds (one-click POSTs, the lanes).
 */
export const CAMPAIGN_CHUNK = 5000;

/** Rows per statement of the planner's insert (insertPlanned). */
export const PLAN_CHUNK = 250;

/** Messages (one row per recipient per send) and their append-only events. */
export function messagesRepo(store: Db) {
  const { db, dialect } = store;
  return {
    async insertContent(accountId: string, data: string, now: number): Promise<number> {
      const r = await db.insertInto('contents').values({ account_id: accountId, data, created_at: now }).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
    getContent: (id: number) => db.selectFrom('contents').select(['id', 'account_id', 'data']).where('id', '=', id).executeTakeFirst(),

    /** Inserts rows (API messages, relayed messages); the planner uses insertPlanned. */
    async insertMessages(rows: NewMessage[]): Promise<MessageRow[]> {
      if (!rows.length) return [];
      return db.insertInto('messages').values(rows).returningAll().execute();
    },
    /**
     * The campaign planner's insert: a (campaign, recipient) already planned is skipped, and only
     * what the planner reads comes back. In statements of PLAN_CHUNK rows: a page of 1,000 rows in
     * one statement bound 21,000 parameters and returned 1,000 whole rows, so each page left a
     * large-object parameter array and ~1 MB of rows to the main heap's garbage (bench/send).
     */
    async insertPlanned(rows: NewMessage[]): Promise<Array<Pick<MessageRow, 'id' | 'status' | 'reason'>>> {
      const out: Array<Pick<MessageRow, 'id' | 'status' | 'reason'>> = [];
      for (let i = 0; i < rows.length; i += PLAN_CHUNK) {
        out.push(...await db.insertInto('messages').values(rows.slice(i, i + PLAN_CHUNK))
          .onConflict((oc) => oc.columns(['campaign_id', 'rcpt_key']).doNothing())
          .returning(['id', 'status', 'reason']).execute());
      }
      return out;
    },
    async insertEvents(rows: NewEvent[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 500) await db.insertInto('events').values(rows.slice(i, i + 500)).execute();
    },

    /**
     * Claims due messages under a lease: queued/deferred whose time has come, and `sending`
     * rows whose lease expired (a crashed worker). PostgreSQL skips rows other workers hold.
     */
    async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<MessageRow[]> {
      // One indexed range per state, each in index order: an OR across states would make the
      // database sort every due row on each claim, which grows with the queue.
      const claimed: MessageRow[] = [];
      const ranges = [
        (q: SelectIds) => q.where('status', '=', 'sending').where('lease_until', '<', now),
        (q: SelectIds) => q.where('status', '=', 'deferred').where('next_attempt_at', '<=', now).orderBy('next_attempt_at'),
        (q: SelectIds) => q.where('status', '=', 'queued').where('next_attempt_at', '<=', now).orderBy('next_attempt_at'),
      ];
      for (const range of ranges) {
        if (claimed.length >= limit) break;
        let sub = range(db.selectFrom('messages').select('id')).limit(limit - claimed.length);
        if (dialect === 'postgres') sub = sub.forUpdate().skipLocked();
        claimed.push(...await db.updateTable('messages')
          .set({ status: 'sending', lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
          .where('id', 'in', sub).returningAll().execute());
      }
      return claimed;
    },

    /** Records a batch of attempt outcomes and their events in one transaction (group commit). */
    async recordAttempts(owner: string, now: number, records: AttemptRecord[]): Promise<void> {
      if (!records.length) return;
      await db.transaction().execute(async (tx) => {
        const sent = records.filter((r) => r.status === 'sent').map((r) => r.id);
        for (let i = 0; i < sent.length; i += 500) {
          await tx.updateTable('messages')
            .set((eb) => ({ status: 'sent', reason: null, sent_at: now, updated_at: now, lease_owner: null, lease_until: null, attempts: eb('attempts', '+', 1) }))
            .where('id', 'in', sent.slice(i, i + 500)).where('lease_owner', '=', owner).execute();
        }
        for (const r of records) {
          if (r.status === 'sent') continue;
          await tx.updateTable('messages')
            .set((eb) => ({
              status: r.status === 'held' || r.status === 'released' ? 'queued' : r.status, reason: r.reason,
              last_reply: notAnAttempt(r.status) ? eb.ref('last_reply') : r.lastReply, updated_at: now, lease_owner: null, lease_until: null,
              next_attempt_at: r.nextAttemptAt ?? now,
              attempts: r.status === 'skipped' || notAnAttempt(r.status) ? eb.ref('attempts') : eb('attempts', '+', 1),
            }))
            .where('id', '=', r.id).where('lease_owner', '=', owner).execute();
        }
        // A hold is not an attempt: no event per held message (the guard reports its reasons).
        const ev = records.map((r) => r.event).filter((e): e is NewEvent => e !== null);
        for (let i = 0; i < ev.length; i += 500) await tx.insertInto('events').values(ev.slice(i, i + 500)).execute();
      });
    },

    /** Gives claimed rows back (SIGTERM): they become due again at once. `owners`: the claims' lease tokens. */
    async releaseLeases(owners: string[], now: number): Promise<number> {
      if (!owners.length) return 0;
      const r = await db.updateTable('messages').set({ status: 'queued', lease_owner: null, lease_until: null, updated_at: now })
        .where('status', '=', 'sending').where('lease_owner', 'in', owners).executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    get: (accountId: string, id: number) =>
      db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    getAny: (id: number) => db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst(),
    /** The newest message with this Message-ID header (`<…>` included), across accounts (report matching). */
    byMessageIdHeader: (header: string) =>
      db.selectFrom('messages').selectAll().where('message_id', '=', header).orderBy('id', 'desc').limit(1).executeTakeFirst(),
    /** The newest message of an account to a recipient, of one campaign or (null) of the API. */
    latestTo(accountId: string, rcptKey: string, campaignId: string | null) {
      let q = db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('rcpt_key', '=', rcptKey);
      q = campaignId === null ? q.where('campaign_id', 'is', null) : q.where('campaign_id', '=', campaignId);
      return q.orderBy('id', 'desc').limit(1).executeTakeFirst();
    },
    events: (accountId: string, messageId: number) =>
      db.selectFrom('events').selectAll().where('account_id', '=', accountId).where('message_id', '=', messageId).orderBy('id').execute(),

    /** Keyset page of messages filtered by campaign, recipient, status or Message-ID. */
    list(accountId: string, f: { campaignId?: string; rcptKey?: string; status?: string; messageId?: string; after?: number; limit: number }) {
      let q = db.selectFrom('messages').selectAll().where('account_id', '=', accountId);
      if (f.campaignId) q = q.where('campaign_id', '=', f.campaignId);
      if (f.rcptKey) q = q.where('rcpt_key', '=', f.rcptKey);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.messageId) q = q.where('message_id', '=', f.messageId);
      if (f.after) q = q.where('id', '>', f.after);
      return q.orderBy('id').limit(f.limit).execute();
    },

    /** Counts by status and reason for one campaign. */
    campaignCounts: (accountId: string, campaignId: string) =>
      db.selectFrom('messages').select(['status', 'reason', (eb) => eb.fn.countAll<number>().as('n')])
        .where('account_id', '=', accountId).where('campaign_id', '=', campaignId).groupBy(['status', 'reason']).execute(),

    /** True while a campaign still has messages that may be transmitted. */
    async campaignHasActive(campaignId: string): Promise<boolean> {
      const r = await db.selectFrom('messages').select('id').where('campaign_id', '=', campaignId)
        .where('status', 'in', [...ACTIVE]).limit(1).executeTakeFirst();
      return !!r;
    },

    /** True when a campaign has messages waiting in `paused` (left by a resume that did not finish). */
    async campaignHasPaused(campaignId: string): Promise<boolean> {
      const r = await db.selectFrom('messages').select('id').where('campaign_id', '=', campaignId)
        .where('status', '=', 'paused').limit(1).executeTakeFirst();
      return !!r;
    },

    /**
     * Moves a campaign's pending messages between states (pause, resume, cancel), only while the
     * campaign itself is in one of `whileCampaign` (checked by every statement, so a pause that
     * overtakes a resume wins), CAMPAIGN_CHUNK rows per statement with a turn of the event loop
     * between. A stop half-way is safe: the worker checks the campaign's state before it
     * transmits, and the planner requeues a running campaign's paused messages.
     */
    async setCampaignPending(campaignId: string, from: string[], to: string, reason: string | null, now: number, whileCampaign: string[]): Promise<number> {
      let total = 0;
      for (;;) {
        const chunk = db.selectFrom('messages').select('id').where('campaign_id', '=', campaignId).where('status', 'in', from).limit(CAMPAIGN_CHUNK);
        const r = await db.updateTable('messages').set({ status: to, reason, updated_at: now })
          .where('id', 'in', chunk).where('status', 'in', from)
          .where((eb) => eb.exists(eb.selectFrom('campaigns').select('campaigns.id').where('campaigns.id', '=', campaignId).where('campaigns.status', 'in', whileCampaign)))
          .executeTakeFirst();
        const n = Number(r.numUpdatedRows);
        if (!n) return total;
        total += n;
        await nextTurn();
      }
    },

    /** Contact attributes for a batch of contacts, one query. */
    async contactAttributes(ids: number[]): Promise<Map<number, Record<string, unknown>>> {
      const out = new Map<number, Record<string, unknown>>();
      if (!ids.length) return out;
      const rows = await db.selectFrom('contacts').select(['id', 'attributes']).where('id', 'in', ids).execute();
      for (const r of rows) out.set(Number(r.id), JSON.parse(r.attributes));
      return out;
    },
  };
}

/** The messages repository's type. */
export type MessagesRepo = ReturnType<typeof messagesRepo>;
