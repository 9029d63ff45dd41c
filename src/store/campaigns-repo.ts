import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { subscriberIdsQuery } from './contacts-repo.js';
import type { Db } from './db.js';
import type { CampaignsTable } from './types.js';

/** A campaign row. */
export type CampaignRow = Selectable<CampaignsTable>;

/** One recipient candidate of a campaign, in contact-id order. */
export interface PlanCandidate {
  contact_id: number;
  address: string;
  address_key: string;
  /** A list the contact is subscribed to, or null when none of its subscriptions is active. */
  list_id: string | null;
  /** The state that blocks it when list_id is null: 'unsubscribed' or 'pending'. */
  blocked: string | null;
}

/** Campaigns (a status machine with a lease) and the planner's recipient pages. */
export function campaignsRepo(store: Db) {
  const { db, dialect } = store;

  /** The page's contact ids: the next `limit` above `afterContactId` in any of the lists, ascending. */
  async function planIds(accountId: string, listIds: string[], afterContactId: number, limit: number): Promise<number[]> {
    // The next `limit` contact ids of each list, each an ordered range of the (list_id,
    // contact_id) index, merged in one statement: one `list_id in (…)` scan instead made the
    // database collect and sort every remaining subscription of the lists for each page (a
    // temp B-tree on SQLite), so a multi-list campaign's planning grew with the square of its
    // size (bench/plan-pages). The smallest `limit` ids of the union are among each list's.
    const nextOf = (listId: string, n: number) => db.selectFrom(subscriberIdsQuery(db, accountId, listId, afterContactId, limit, { anyStatus: true }).as(`l${n}`))
      .select('contact_id');
    let merged = nextOf(listIds[0], 0);
    for (let i = 1; i < listIds.length; i++) merged = merged.unionAll(nextOf(listIds[i], i));
    return (await db.selectFrom(merged.as('m')).select('contact_id').distinct().orderBy('contact_id').limit(limit).execute())
      .map((r) => Number(r.contact_id));
  }

  /** The page's candidates: each contact with the first list it is subscribed to, or why it is blocked. */
  async function planCandidates(accountId: string, listIds: string[], ids: number[]): Promise<PlanCandidate[]> {
    if (!ids.length) return [];
    const rows = await db.selectFrom('subscriptions as s').innerJoin('contacts as c', 'c.id', 's.contact_id')
      .select(['c.id as contact_id', 'c.address', 'c.address_key', 's.list_id', 's.status'])
      .where('s.account_id', '=', accountId).where('s.list_id', 'in', listIds).where('s.contact_id', 'in', ids).execute();
    const byId = new Map<number, PlanCandidate & { pending: boolean }>();
    for (const r of rows) {
      const id = Number(r.contact_id);
      const c = byId.get(id) ?? { contact_id: id, address: r.address, address_key: r.address_key, list_id: null, blocked: null, pending: false };
      if (r.status === 'subscribed' && (c.list_id === null || r.list_id < c.list_id)) c.list_id = r.list_id;
      if (r.status === 'pending') c.pending = true;
      byId.set(id, c);
    }
    return ids.filter((id) => byId.has(id)).map((id) => {
      const c = byId.get(id)!;
      return { contact_id: c.contact_id, address: c.address, address_key: c.address_key, list_id: c.list_id, blocked: c.list_id ? null : c.pending ? 'pending_confirmation' : 'unsubscribed' };
    });
  }

  return {
    insert: (row: Insertable<CampaignsTable>) => db.insertInto('campaigns').values(row).execute(),
    get: (accountId: string, id: string) =>
      db.selectFrom('campaigns').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    getAny: (id: string) => db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst(),
    list: (accountId: string, limit: number, after?: string) => {
      let q = db.selectFrom('campaigns').selectAll().where('account_id', '=', accountId);
      if (after) q = q.where('id', '<', after);
      return q.orderBy('id', 'desc').limit(limit).execute();
    },
    /** The paused or cancelled campaigns among `ids`: their messages must not be transmitted. */
    async stopped(ids: string[]): Promise<Map<string, 'paused' | 'cancelled'>> {
      if (!ids.length) return new Map();
      const rows = await db.selectFrom('campaigns').select(['id', 'status']).where('id', 'in', ids).where('status', 'in', ['paused', 'cancelled']).execute();
      return new Map(rows.map((r) => [r.id, r.status as 'paused' | 'cancelled']));
    },
    /** Conditional update: only when the campaign is in one of `from` (a state-machine step). */
    async transition(accountId: string, id: string, from: string[], patch: Updateable<CampaignsTable>): Promise<boolean> {
      const r = await db.updateTable('campaigns').set(patch).where('account_id', '=', accountId).where('id', '=', id)
        .where('status', 'in', from).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    update: (id: string, patch: Updateable<CampaignsTable>) => db.updateTable('campaigns').set(patch).where('id', '=', id).execute(),

    /** Claims one campaign due for planning (scheduled and due, or planning with an expired lease). */
    async claimForPlanning(owner: string, now: number, leaseMs: number): Promise<CampaignRow | undefined> {
      let sub = db.selectFrom('campaigns').select('id')
        .where((eb) => eb.or([
          eb.and([eb('status', '=', 'scheduled'), eb('scheduled_at', '<=', now)]),
          eb.and([eb('status', '=', 'planning'), eb.or([eb('lease_until', '<', now), eb('lease_until', 'is', null)])]),
        ]))
        .orderBy('scheduled_at').limit(1);
      if (dialect === 'postgres') sub = sub.forUpdate().skipLocked();
      return db.updateTable('campaigns')
        .set({ status: 'planning', lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
        .where('id', 'in', sub).returningAll().executeTakeFirst();
    },
    /** Gives the planning lease back (a stopping process): any planner may continue at once from the cursor. */
    releasePlanning: (id: string, owner: string) =>
      db.updateTable('campaigns').set({ lease_owner: null, lease_until: null }).where('id', '=', id)
        .where('lease_owner', '=', owner).where('status', '=', 'planning').execute(),
    /** Extends the planning lease; false when another process took it over. */
    async renewLease(id: string, owner: string, until: number): Promise<boolean> {
      const r = await db.updateTable('campaigns').set({ lease_until: until }).where('id', '=', id)
        .where('lease_owner', '=', owner).where('status', '=', 'planning').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** The account's lists among `ids` (name and RFC 2919 label), for validation and List-Id. */
    listsByIds: (accountId: string, ids: string[]) =>
      ids.length
        ? db.selectFrom('lists').select(['id', 'name', 'label']).where('account_id', '=', accountId).where('id', 'in', ids).execute()
        : Promise.resolve([]),
    /** Running campaigns, to detect when they are done. */
    running: () => db.selectFrom('campaigns').select(['id', 'account_id']).where('status', '=', 'running').execute(),

    /**
     * A keyset page of distinct contacts with a subscription to any of the lists (flat memory).
     * Two bounded queries: the next contact ids in index order, then their rows. A GROUP BY over
     * the join would make the database aggregate every remaining row on each page.
     */
    planPage: async (accountId: string, listIds: string[], afterContactId: number, limit: number): Promise<PlanCandidate[]> =>
      planCandidates(accountId, listIds, await planIds(accountId, listIds, afterContactId, limit)),
    planIds,
    planCandidates,
  };
}

/** The campaigns repository's type. */
export type CampaignsRepo = ReturnType<typeof campaignsRepo>;
