import { sql } from 'kysely';
import type { Db } from './db.js';

/** One increment of an hourly counter. */
export interface HourlyIncrement { account_id: string; scope: string; key: string; provider: string; hour: number; count: number }

/**
 * Counters of the compliance guard: hourly sends (rolling 24 h, warm-up, hourly caps), daily
 * volume per organisational domain × provider, the permanent bulk-sender flags, daily spam-rate
 * figures and one-shot alert flags. Increments are upserts, so concurrent workers add up.
 */
export function complianceCountersRepo({ db }: Db) {
  return {
    async addHourly(rows: HourlyIncrement[]): Promise<void> {
      if (!rows.length) return;
      await db.insertInto('send_counters_hourly').values(rows)
        .onConflict((oc) => oc.columns(['account_id', 'scope', 'key', 'provider', 'hour'])
          .doUpdateSet((eb) => ({ count: eb('send_counters_hourly.count', '+', eb.ref('excluded.count')) }))).execute();
    },
    async addDaily(rows: Array<{ account_id: string; org_domain: string; provider: string; day: string; count: number }>): Promise<void> {
      if (!rows.length) return;
      await db.insertInto('volume_counters').values(rows)
        .onConflict((oc) => oc.columns(['account_id', 'org_domain', 'provider', 'day'])
          .doUpdateSet((eb) => ({ count: eb('volume_counters.count', '+', eb.ref('excluded.count')) }))).execute();
    },
    /** Sums of hourly counters with hour >= since, grouped by account, key and provider, with the earliest hour counted. */
    async sums(scope: string, accountIds: string[], keys: string[], since: number) {
      if (!accountIds.length || !keys.length) return [];
      const rows = await db.selectFrom('send_counters_hourly')
        .select(['account_id', 'key', 'provider', (eb) => eb.fn.sum<number>('count').as('n'), (eb) => eb.fn.min<number>('hour').as('first')])
        .where('scope', '=', scope).where('account_id', 'in', accountIds).where('key', 'in', keys).where('hour', '>=', since)
        .where('count', '>', 0).groupBy(['account_id', 'key', 'provider']).execute();
      return rows.map((r) => ({ ...r, n: Number(r.n), first: Number(r.first) }));
    },
    /** Hourly rows of an account (volume API): scope 'org', hour >= since. */
    orgHours: (accountId: string, since: number) =>
      db.selectFrom('send_counters_hourly').select(['key', 'provider', 'hour', 'count'])
        .where('account_id', '=', accountId).where('scope', '=', 'org').where('hour', '>=', since).orderBy('hour').execute(),
    dailyVolume: (accountId: string, sinceDay: string) =>
      db.selectFrom('volume_counters').selectAll().where('account_id', '=', accountId).where('day', '>=', sinceDay)
        .orderBy('day').orderBy('org_domain').orderBy('provider').execute(),
    /** Sets the permanent bulk-sender flag; true when this call set it (never cleared, R-SCOPE-1). */
    async flagBulk(accountId: string, orgDomain: string, provider: string, at: number): Promise<boolean> {
      const r = await db.insertInto('bulk_senders').values({ account_id: accountId, org_domain: orgDomain, provider, since: at })
        .onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    bulkSenders: (accountId: string) =>
      db.selectFrom('bulk_senders').selectAll().where('account_id', '=', accountId).orderBy('since').execute(),
    /** Sets a one-shot flag; true when this call set it. */
    async flagOnce(accountId: string, flag: string, at: number): Promise<boolean> {
      const r = await db.insertInto('compliance_flags').values({ account_id: accountId, flag, created_at: at })
        .onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async addSpam(rows: Array<{ account_id: string; domain_id: string; day: string; delivered: number; complaints: number }>): Promise<void> {
      if (!rows.length) return;
      await db.insertInto('spam_rate_daily').values(rows)
        .onConflict((oc) => oc.columns(['account_id', 'domain_id', 'day']).doUpdateSet((eb) => ({
          delivered: eb('spam_rate_daily.delivered', '+', eb.ref('excluded.delivered')),
          complaints: eb('spam_rate_daily.complaints', '+', eb.ref('excluded.complaints')),
        }))).execute();
    },
    spamDay: (accountId: string, domainId: string, day: string) =>
      db.selectFrom('spam_rate_daily').selectAll().where('account_id', '=', accountId).where('domain_id', '=', domainId).where('day', '=', day).executeTakeFirst(),
    spamSince: (accountId: string, sinceDay: string) =>
      db.selectFrom('spam_rate_daily').selectAll().where('account_id', '=', accountId).where('day', '>=', sinceDay).orderBy('day').execute(),
    /** Drops hourly rows older than the horizon (kept small: only the last days matter). */
    prune: (before: number) => db.deleteFrom('send_counters_hourly').where('hour', '<', before).execute(),
    campaignExists: async (accountId: string, campaignId: string) =>
      !!(await db.selectFrom('campaigns').select('id').where('account_id', '=', accountId).where('id', '=', campaignId).executeTakeFirst()),
    /** Held reasons of queued messages of a campaign (campaign progress: why messages wait). */
    heldReasons: (accountId: string, campaignId: string) =>
      db.selectFrom('messages').select(['reason', (eb) => eb.fn.countAll<number>().as('n'), sql<number>`min(next_attempt_at)`.as('next_at')])
        .where('account_id', '=', accountId).where('campaign_id', '=', campaignId).where('status', '=', 'queued')
        .where('reason', 'is not', null).groupBy('reason').execute(),
  };
}
