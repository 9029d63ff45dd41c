import type { Db } from './db.js';
import { blocks } from '../domain/suppression-rules.js';

const PENDING = ['queued', 'deferred', 'paused'];

/**
 * Skips the not-yet-transmitted messages that new ledger entries block, with an event each, in
 * the caller's transaction (R-UNSUB-9: once the unsubscribe returned, nothing more is sent).
 * One query per 500 entries, never one per entry.
 */
export async function skipPendingFor(store: Db, accountId: string, entries: Array<{ address_key: string; scope: string; list_id: string; reason: string }>, now: number): Promise<number> {
  const { db } = store;
  let skipped = 0;
  for (let i = 0; i < entries.length; i += 500) {
    const chunk = entries.slice(i, i + 500);
    const byKey = new Map<string, typeof chunk>();
    for (const e of chunk) byKey.set(e.address_key, [...(byKey.get(e.address_key) ?? []), e]);
    const rows = await db.selectFrom('messages').select(['id', 'campaign_id', 'rcpt_key', 'category', 'list_id']).where('account_id', '=', accountId)
      .where('rcpt_key', 'in', [...byKey.keys()]).where('status', 'in', PENDING).execute();
    const hits = rows.flatMap((m) => {
      const e = byKey.get(m.rcpt_key)!.find((x) => blocks(x, { category: m.category as 'subscription' | 'transactional', listId: m.list_id }));
      return e ? [{ m, reason: `suppressed:${e.reason}` }] : [];
    });
    if (!hits.length) continue;
    for (const reason of new Set(hits.map((h) => h.reason))) {
      await db.updateTable('messages').set({ status: 'skipped', reason, updated_at: now })
        .where('id', 'in', hits.filter((h) => h.reason === reason).map((h) => h.m.id)).where('status', 'in', PENDING).execute();
    }
    await db.insertInto('events').values(hits.map((h) => ({
      account_id: accountId, message_id: h.m.id, campaign_id: h.m.campaign_id, type: 'skipped', data: JSON.stringify({ reason: h.reason, at: 'suppression' }), created_at: now,
    }))).execute();
    skipped += hits.length;
  }
  return skipped;
}
