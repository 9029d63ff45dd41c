import type { Db } from './db.js';

/**
 * Skips the not-yet-transmitted messages a new ledger entry blocks, with an event each, in the
 * caller's transaction (R-UNSUB-9: once the unsubscribe returned, nothing more is sent).
 */
export async function skipPendingFor(store: Db, accountId: string, e: { address_key: string; scope: string; list_id: string; reason: string }, now: number): Promise<number> {
  const { db } = store;
  const transactionalToo = ['hard_bounce', 'complaint', 'invalid'].includes(e.reason) || (e.reason === 'manual' && e.scope === 'account');
  let q = db.selectFrom('messages').select(['id', 'campaign_id']).where('account_id', '=', accountId).where('rcpt_key', '=', e.address_key)
    .where('status', 'in', ['queued', 'deferred', 'paused']);
  if (e.scope === 'list') q = q.where('category', '=', 'subscription').where('list_id', '=', e.list_id);
  else if (!transactionalToo) q = q.where('category', '=', 'subscription');
  const rows = await q.execute();
  if (!rows.length) return 0;
  const reason = `suppressed:${e.reason}`;
  await db.updateTable('messages').set({ status: 'skipped', reason, updated_at: now }).where('id', 'in', rows.map((r) => r.id))
    .where('status', 'in', ['queued', 'deferred', 'paused']).execute();
  await db.insertInto('events').values(rows.map((r) => ({
    account_id: accountId, message_id: r.id, campaign_id: r.campaign_id, type: 'skipped', data: JSON.stringify({ reason, at: 'suppression' }), created_at: now,
  }))).execute();
  return rows.length;
}
