import type { Db } from './db.js';

/** Held and paused streams (R-BNC-4, R-CMPL-1) and warm-up start dates (R-VOL-1). */
export function complianceStreamsRepo({ db }: Db) {
  return {
    /** Active holds of these accounts. */
    active: (accountIds: string[]) => accountIds.length
      ? db.selectFrom('stream_holds').selectAll().where('account_id', 'in', accountIds).where('resumed_at', 'is', null).execute()
      : Promise.resolve([]),
    activeFor: (accountId: string, domainId: string, kind: string) =>
      db.selectFrom('stream_holds').selectAll().where('account_id', '=', accountId).where('domain_id', '=', domainId)
        .where('kind', '=', kind).where('resumed_at', 'is', null).executeTakeFirst(),
    insert: (row: { account_id: string; domain_id: string; kind: string; data: string; created_at: number }) =>
      db.insertInto('stream_holds').values({ ...row, resumed_at: null, resumed_by: null, resume_note: null }).execute(),
    /** Resumes the active holds of a domain (all kinds, or one); returns how many. */
    async resume(accountId: string, domainId: string, by: string, note: string | null, at: number, kind?: string): Promise<number> {
      let q = db.updateTable('stream_holds').set({ resumed_at: at, resumed_by: by, resume_note: note })
        .where('account_id', '=', accountId).where('domain_id', '=', domainId).where('resumed_at', 'is', null);
      if (kind) q = q.where('kind', '=', kind);
      return Number((await q.executeTakeFirst()).numUpdatedRows);
    },
    history: (accountId: string, domainId?: string) => {
      let q = db.selectFrom('stream_holds').selectAll().where('account_id', '=', accountId);
      if (domainId) q = q.where('domain_id', '=', domainId);
      return q.orderBy('id', 'desc').limit(200).execute();
    },
    /** Name and test flag of sending domains by id (the guard's per-batch lookup). */
    domains: (ids: string[]) => ids.length
      ? db.selectFrom('domains').select(['id', 'account_id', 'name', 'test_mode']).where('id', 'in', ids).execute()
      : Promise.resolve([]),
    /** Domains whose last check is older than `before` (periodic re-check), oldest first. */
    domainsDue: (before: number, limit: number) =>
      db.selectFrom('domains').select(['id', 'account_id', 'name']).where((eb) => eb.or([eb('checked_at', 'is', null), eb('checked_at', '<', before)]))
        .where('test_mode', '=', 0).orderBy('checked_at').limit(limit).execute(),
    /** Saves a check result on the domain. */
    saveCheck: (accountId: string, id: string, patch: { check_json: string; checked_at: number; status: string; verified_at: number | null }) =>
      db.updateTable('domains').set(patch).where('account_id', '=', accountId).where('id', '=', id).execute(),
    warmups: (accountIds: string[], subjects: string[]) => accountIds.length && subjects.length
      ? db.selectFrom('warmup_subjects').selectAll().where('account_id', 'in', accountIds).where('subject', 'in', subjects).execute()
      : Promise.resolve([]),
    warmupsOf: (accountId: string) => db.selectFrom('warmup_subjects').selectAll().where('account_id', 'in', [accountId, '*']).execute(),
    /** Sets (or moves back) a subject's warm-up start. */
    setWarmup: (accountId: string, subject: string, startedAt: number) =>
      db.insertInto('warmup_subjects').values({ account_id: accountId, subject, started_at: startedAt })
        .onConflict((oc) => oc.columns(['account_id', 'subject']).doUpdateSet({ started_at: startedAt })).execute(),
    async startWarmups(rows: Array<{ account_id: string; subject: string; started_at: number }>): Promise<void> {
      if (rows.length) await db.insertInto('warmup_subjects').values(rows).onConflict((oc) => oc.doNothing()).execute();
    },
  };
}
