import type { Deps } from '../app/deps.js';
import type { SendCollaborators } from '../core/send-collaborators.js';
import { campaignsRepo, type CampaignRow } from '../store/campaigns-repo.js';
import { messagesRepo, type NewMessage } from '../store/messages-repo.js';
import { newMessageId } from '../core/messages.js';
import { parseMailbox } from '../domain/address.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

const PAGE = 1000;

/**
 * Plans campaigns: pages through recipients in contact-id order with flat memory and writes
 * one message row per recipient. The unique (campaign, recipient) key and the cursor saved in
 * the same transaction make a crash mid-plan safe: a recipient is planned at most once.
 */
export function createPlanner(deps: Deps, collab: SendCollaborators, owner: string,
  /** True once the process is stopping (SIGTERM): planning stops after the page in progress. */
  stopping: () => boolean = () => false) {
  const campaigns = campaignsRepo(deps.store);
  const leaseMs = deps.config.worker.leaseSeconds * 1000;

  async function planPage(c: CampaignRow, listIds: string[], domain: { id: string; name: string }): Promise<'more' | 'done' | 'lost'> {
    const cursor = Number(c.plan_cursor ?? 0);
    const page = await campaigns.planPage(c.account_id, listIds, cursor, PAGE);
    const now = deps.clock.now();
    if (!page.length) {
      const ok = await campaigns.renewLease(c.id, owner, now + leaseMs);
      if (!ok) return 'lost';
      await campaigns.update(c.id, { status: 'running', plan_cursor: 'done', lease_owner: null, lease_until: null, updated_at: now, started_at: c.started_at ?? now });
      return 'done';
    }
    const subscribed = page.filter((p) => p.list_id);
    const blocked = await collab.suppressions.checkBatch(c.account_id, subscribed.map((p) => p.address_key), { category: 'subscription', listId: null });
    // checkBatch with listId null answers account-scope blocks; list-scope blocks are per list.
    const perList = new Map<string, Set<string>>();
    for (const p of subscribed) perList.set(p.list_id!, (perList.get(p.list_id!) ?? new Set()).add(p.address_key));
    for (const [listId, keys] of perList) {
      const b = await collab.suppressions.checkBatch(c.account_id, [...keys], { category: 'subscription', listId });
      for (const [k, v] of b) if (!blocked.has(k)) blocked.set(k, v);
    }
    const rows: NewMessage[] = page.map((p) => {
      const block = p.list_id ? blocked.get(p.address_key) : undefined;
      const reason = p.blocked ?? (block ? `suppressed:${block.reason}` : null);
      return {
        account_id: c.account_id, campaign_id: c.id, content_id: null, list_id: p.list_id ?? listIds[0], contact_id: p.contact_id,
        category: 'subscription', domain_id: domain.id, from_address: c.from_address, rcpt: p.address, rcpt_key: p.address_key,
        data: null, message_id: newMessageId(c.account_id, domain.name), status: reason ? 'skipped' : 'queued', reason,
        attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null, last_reply: null,
        created_at: now, updated_at: now, sent_at: null,
      };
    });
    const last = page[page.length - 1].contact_id;
    return deps.store.db.transaction().execute(async (tx) => {
      const txStore = { ...deps.store, db: tx };
      // Fence: only the lease holder of a campaign still in `planning` may write this page.
      const fenced = await campaignsRepo(txStore).renewLease(c.id, owner, now + leaseMs);
      if (!fenced) return 'lost' as const;
      const inserted = await messagesRepo(txStore).insertPlanned(rows);
      const skipped = inserted.filter((m) => m.status === 'skipped');
      await messagesRepo(txStore).insertEvents(skipped.map((m) => ({
        account_id: c.account_id, message_id: m.id, campaign_id: c.id, type: 'skipped', data: JSON.stringify({ reason: m.reason }), created_at: now,
      })));
      await tx.updateTable('campaigns').set((eb) => ({ plan_cursor: String(last), planned: eb('planned', '+', inserted.length), updated_at: now }))
        .where('id', '=', c.id).execute();
      c.plan_cursor = String(last);
      return 'more' as const;
    });
  }

  return {
    /** Claims one due campaign and plans it to the end (or until paused/lease lost). Returns true if it did work. */
    async tick(): Promise<boolean> {
      const c = await campaigns.claimForPlanning(owner, deps.clock.now(), leaseMs);
      if (!c) return false;
      const log = deps.log.child({ campaign: c.id, account: c.account_id });
      const listIds = JSON.parse(c.list_ids) as string[];
      const fromDomain = parseMailbox(c.from_address).domain;
      const domain = await collab.domains.findDomainForAddress(c.account_id, fromDomain);
      if (!domain) {
        log.warn('campaign paused: its From domain is no longer a domain of the account');
        await campaigns.update(c.id, { status: 'paused', lease_owner: null, lease_until: null, updated_at: deps.clock.now() });
        return true;
      }
      if (!c.started_at) await campaigns.update(c.id, { started_at: deps.clock.now() });
      for (;;) {
        const r = await planPage(c, listIds, domain);
        if (r === 'done') log.info({ planned: c.planned }, 'campaign planned');
        if (r !== 'more') return true;
        // Back to the event loop between pages. On SQLite every query of a page resolves without
        // I/O (better-sqlite3 is synchronous under Kysely's promises), so without this a large
        // campaign was planned in one macrotask: a 1,000,000-recipient plan held the event loop for
        // ~60 s, so no lane sent, no timer or HTTP request ran, and the main heap filled with the
        // plan's garbage to ~50 MB (bench/send: the peak RSS of the 1,000,000 run).
        await nextTurn();
        // A very large campaign must not hold up a graceful stop: hand the rest to another
        // planner now instead of after the lease (each page is committed with its cursor).
        if (stopping()) {
          await campaigns.releasePlanning(c.id, owner);
          log.info({ planned: c.planned, cursor: c.plan_cursor }, 'stopping: planning handed over');
          return true;
        }
      }
    },
    /**
     * Marks running campaigns whose messages are all final as sent, and requeues the messages a
     * running campaign still has in `paused` (a resume stopped half-way: crash, restart). True
     * when it requeued any (there is work again).
     */
    async finishCampaigns(): Promise<boolean> {
      const msgs = messagesRepo(deps.store);
      let requeued = false;
      for (const c of await campaigns.running()) {
        if (await msgs.campaignHasPaused(c.id)) {
          const n = await msgs.setCampaignPending(c.id, ['paused'], 'queued', null, deps.clock.now(), ['running']);
          if (n) deps.log.warn({ campaign: c.id, account: c.account_id, requeued: n }, 'running campaign had paused messages (an unfinished resume): requeued');
          requeued ||= n > 0;
        }
        if (!(await msgs.campaignHasActive(c.id))) {
          const now = deps.clock.now();
          await campaigns.transition(c.account_id, c.id, ['running'], { status: 'sent', finished_at: now, updated_at: now });
        }
      }
      return requeued;
    },
  };
}
