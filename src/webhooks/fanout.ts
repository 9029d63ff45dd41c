import type { Deps } from '../app/deps.js';
import { newId } from '../domain/ids.js';
import { webhooksRepo, type EndpointRow, type NewDelivery } from '../store/webhooks-repo.js';
import { mapEvent, mapHistory, type EventSourceRow, type HistorySourceRow, type WebhookEvent } from './event-map.js';

class CursorMoved extends Error {}

/** True when the endpoint wants this event: its account, a type it filters for, and not older than the endpoint. */
export function endpointWants(ep: EndpointRow, ev: WebhookEvent): boolean {
  if (ep.account_id !== ev.accountId || ev.createdAt < Number(ep.created_at)) return false;
  const types = JSON.parse(ep.event_types) as string[];
  return types.includes('*') || types.includes(ev.type);
}

/**
 * How many leading rows may be consumed. Ids are assigned at insert but become visible at
 * commit, so on PostgreSQL id 41 can appear after 42 has been read: the cursor stops before a
 * gap and waits up to gapGraceSeconds for it to fill (a rolled-back insert never will).
 */
export function contiguous(fromId: number, ids: number[], gapSeenAt: number | null, now: number, graceMs: number): { take: number; gapSeenAt: number | null } {
  let expected = fromId + 1;
  let take = 0;
  let seen = gapSeenAt;
  for (const id of ids) {
    if (id !== expected) {
      if (seen === null) return { take, gapSeenAt: now };
      if (now - seen < graceMs) return { take, gapSeenAt: seen };
      seen = null;
    }
    take++;
    expected = id + 1;
    // Past the gap the cursor was waiting at (filled or skipped): a later gap waits afresh.
    seen = null;
  }
  return { take, gapSeenAt: seen };
}

/**
 * Reads the outbox (events, suppression history) past a durable cursor and writes one delivery
 * row per matching endpoint, in the same transaction that advances the cursor.
 */
export function createFanout(deps: Deps) {
  const cfg = deps.config.webhooks;
  const transportKind = deps.config.transport.kind;

  async function runSource(name: 'events' | 'suppression_history'): Promise<number> {
    return deps.store.db.transaction().execute(async (tx) => {
      const repo = webhooksRepo({ ...deps.store, db: tx });
      const cur = await repo.lockCursor(name);
      if (!cur) return 0;
      const from = Number(cur.last_id);
      const readRows = async (): Promise<Array<EventSourceRow | HistorySourceRow>> => name === 'events'
        ? (await repo.eventsAfter(from, cfg.batchSize)) as EventSourceRow[]
        : (await repo.historyAfter(from, cfg.batchSize)) as HistorySourceRow[];
      // While no endpoint is active (a sending worker's usual case), only the ids are read: no
      // join, no mapping. The endpoints that count are read after the rows (an endpoint created
      // meanwhile gets these events); if one appeared since the probe, the full rows are read.
      const probe = await repo.activeEndpoints();
      let rows: Array<{ id: number | string }> = probe.length ? await readRows() : (await repo.idsAfter(name, from, cfg.batchSize)).map((id) => ({ id }));
      if (!rows.length) return 0;
      const endpoints = await repo.activeEndpoints();
      if (endpoints.length && !probe.length) rows = await readRows();
      const now = deps.clock.now();
      const prevGap = cur.gap_seen_at == null ? null : Number(cur.gap_seen_at);
      const { take, gapSeenAt } = contiguous(from, rows.map((r) => Number(r.id)), prevGap, now, cfg.gapGraceSeconds * 1000);
      if (!take) {
        if (gapSeenAt !== prevGap && !(await repo.advanceCursor(name, from, from, gapSeenAt))) throw new CursorMoved();
        return 0;
      }
      const taken = rows.slice(0, take);
      const events = !endpoints.length ? [] : name === 'events'
        ? (taken as EventSourceRow[]).flatMap((r) => mapEvent(r, transportKind))
        : (taken as HistorySourceRow[]).flatMap(mapHistory);
      const deliveries: NewDelivery[] = [];
      for (const ev of events) {
        for (const ep of endpoints) {
          if (!endpointWants(ep, ev)) continue;
          deliveries.push({
            webhook_id: newId('msg_', now), account_id: ev.accountId, endpoint_id: ep.id, event_type: ev.type, source: ev.source,
            payload: ev.payload, status: 'pending', attempts: 0, next_attempt_at: now, window_start: now, created_at: now, updated_at: now,
          });
        }
      }
      await repo.insertDeliveries(deliveries);
      if (!(await repo.advanceCursor(name, from, Number(taken[take - 1].id), gapSeenAt))) throw new CursorMoved();
      return take;
    }).catch((err) => {
      // Another dispatcher advanced the cursor first: its deliveries stand, ours rolled back.
      // (SQLite reports the same race as SQLITE_BUSY_SNAPSHOT when two processes share a file.)
      if (err instanceof CursorMoved || /^SQLITE_BUSY/.test(String((err as { code?: string }).code ?? ''))) return 0;
      throw err;
    });
  }

  return {
    /** One batch from each source; returns how many source rows were consumed. */
    async tick(): Promise<number> {
      return (await runSource('events')) + (await runSource('suppression_history'));
    },
  };
}
