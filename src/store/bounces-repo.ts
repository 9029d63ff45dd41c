import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db } from './db.js';
import type { BounceTables } from './types-bounces.js';

/** One row of the bounce and complaint log. */
export type BounceEventRow = Selectable<BounceTables['bounce_events']>;
/** A held stream or provider throttle. */
export type StreamHoldRow = Selectable<BounceTables['send_holds']>;

/** Raw reports, the bounce/complaint log, soft-bounce counts and held streams (issue 5). */
export function bouncesRepo(store: Db) {
  const db = store.db;
  return {
    async saveRaw(row: Insertable<BounceTables['inbound_raw']>): Promise<number> {
      const r = await db.insertInto('inbound_raw').values(row).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
    /** Assigns a raw report to the account it turned out to belong to. */
    setRawAccount: (id: number, accountId: string) => db.updateTable('inbound_raw').set({ account_id: accountId }).where('id', '=', id).execute(),
    getRaw: (accountId: string, id: number) =>
      db.selectFrom('inbound_raw').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),

    insertEvents: async (rows: Insertable<BounceTables['bounce_events']>[]) => {
      for (let i = 0; i < rows.length; i += 500) await db.insertInto('bounce_events').values(rows.slice(i, i + 500)).execute();
    },
    /** Keyset page of the log, newest first; filters by address, kind or class. */
    listEvents(accountId: string, f: { addressKey?: string; kind?: string; cls?: string; before?: number; limit: number }) {
      let q = db.selectFrom('bounce_events').selectAll().where('account_id', '=', accountId);
      if (f.addressKey) q = q.where('address_key', '=', f.addressKey);
      if (f.kind) q = q.where('kind', '=', f.kind);
      if (f.cls) q = q.where('class', '=', f.cls);
      if (f.before) q = q.where('id', '<', f.before);
      return q.orderBy('id', 'desc').limit(f.limit).execute();
    },
    getEvent: (accountId: string, id: number) =>
      db.selectFrom('bounce_events').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),

    /** Adds one soft bounce and returns the consecutive count (one statement, safe under concurrency). */
    async bumpSoft(accountId: string, key: string, now: number): Promise<number> {
      const r = await sql<{ count: number }>`insert into soft_bounces (account_id, address_key, count, first_at, last_at)
        values (${accountId}, ${key}, 1, ${now}, ${now})
        on conflict (account_id, address_key) do update set count = soft_bounces.count + 1, last_at = ${now}
        returning count`.execute(db);
      return Number(r.rows[0].count);
    },
    /**
     * A delivery (or a suppression) ends the run of soft bounces. Called for every sent batch, so
     * it reads first and writes only when one of the keys has a run (almost never): on SQLite a
     * delete would take the single writer lock once per batch for nothing.
     */
    async resetSoft(accountId: string, keys: string[]): Promise<void> {
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        const runs = await db.selectFrom('soft_bounces').select('address_key').where('account_id', '=', accountId).where('address_key', 'in', chunk).execute();
        if (runs.length) await db.deleteFrom('soft_bounces').where('account_id', '=', accountId).where('address_key', 'in', runs.map((r) => r.address_key)).execute();
      }
    },
    softCount: async (accountId: string, key: string) =>
      Number((await db.selectFrom('soft_bounces').select('count').where('account_id', '=', accountId).where('address_key', '=', key).executeTakeFirst())?.count ?? 0),

    /** Opens a hold unless an equal one is already open; returns true when it is new. */
    async openHold(row: Insertable<BounceTables['send_holds']>): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const open = await tx.selectFrom('send_holds').select('id').where('account_id', '=', row.account_id)
          .where('domain_id', '=', row.domain_id).where('stream', '=', row.stream).where('released_at', 'is', null)
          .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', row.created_at)])).executeTakeFirst();
        if (open) {
          if (row.until) await tx.updateTable('send_holds').set({ until: row.until }).where('id', '=', open.id).where('until', '<', row.until).execute();
          return false;
        }
        await tx.insertInto('send_holds').values(row).execute();
        return true;
      });
    },
    /** Holds in force for these domains now. */
    activeHolds(domainIds: string[], now: number): Promise<StreamHoldRow[]> {
      if (!domainIds.length) return Promise.resolve([]);
      return db.selectFrom('send_holds').selectAll().where('domain_id', 'in', domainIds).where('released_at', 'is', null)
        .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', now)])).execute();
    },
    listHolds: (accountId: string, includeReleased: boolean) => {
      let q = db.selectFrom('send_holds').selectAll().where('account_id', '=', accountId);
      if (!includeReleased) q = q.where('released_at', 'is', null);
      return q.orderBy('id', 'desc').limit(500).execute();
    },
    async releaseHold(accountId: string, id: number, by: string, now: number): Promise<boolean> {
      const r = await db.updateTable('send_holds').set({ released_at: now, released_by: by })
        .where('account_id', '=', accountId).where('id', '=', id).where('released_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /** An asynchronous report on a message: a permanent bounce marks it bounced; its event is added (one transaction). */
    async reportOnMessage(m: { id: number; account_id: string; campaign_id: string | null }, r: { type: string; bounced: { reason: string; lastReply: string } | null; data: string; now: number }) {
      await db.transaction().execute(async (tx) => {
        if (r.bounced) {
          await tx.updateTable('messages').set({ status: 'bounced', reason: r.bounced.reason, last_reply: r.bounced.lastReply, updated_at: r.now })
            .where('id', '=', m.id).where('status', 'in', ['sent', 'sending', 'deferred', 'queued']).execute();
        }
        await tx.insertInto('events').values({ account_id: m.account_id, message_id: m.id, campaign_id: m.campaign_id, type: r.type, created_at: r.now, data: r.data }).execute();
      });
    },

    /** Accounts and domains that own `domain` as a From or return-path domain (RFC 2142 role mail). */
    roleMailOwners: (domain: string) => db.selectFrom('domains').select(['id', 'account_id'])
      .where((eb) => eb.or([eb('name', '=', domain), eb('return_path_domain', '=', domain)])).execute(),
    async insertRoleMail(row: Insertable<BounceTables['role_mail']>): Promise<number> {
      return Number((await db.insertInto('role_mail').values(row).returning('id').executeTakeFirstOrThrow()).id);
    },
    listRoleMail(accountId: string, before: number | undefined, limit: number) {
      let q = db.selectFrom('role_mail').selectAll().where('account_id', '=', accountId);
      if (before) q = q.where('id', '<', before);
      return q.orderBy('id', 'desc').limit(limit).execute();
    },
    roleMailRawId: async (accountId: string, id: number) =>
      (await db.selectFrom('role_mail').select('raw_id').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst())?.raw_id ?? null,
    setRoleMailForward: (id: number, f: { status: string; reply: string | null; at: number | null }) =>
      db.updateTable('role_mail').set({ forward_status: f.status, forward_reply: f.reply, forwarded_at: f.at }).where('id', '=', id).execute(),
    roleForwardTo: async (accountId: string) =>
      (await db.selectFrom('account_inbound_settings').select('role_forward_to').where('account_id', '=', accountId).executeTakeFirst())?.role_forward_to ?? null,
    setRoleForwardTo: (accountId: string, to: string | null, now: number) =>
      db.insertInto('account_inbound_settings').values({ account_id: accountId, role_forward_to: to, updated_at: now })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ role_forward_to: to, updated_at: now })).execute(),
  };
}
