import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { listsRepo } from '../store/lists-repo.js';

function checkName(name: string): void {
  if (!name || name.length > 200 || /[\r\n\0]/.test(name)) fail('E_VALIDATION', 'name: 1-200 characters, no line breaks');
}

/** Subscription lists (issue 2 item 7). The List-Id label derives from the immutable id (R-LIST-2). */
export function listsCore(deps: Deps) {
  const repo = listsRepo(deps.store);
  const now = () => deps.clock.now();
  async function must(accountId: string, idOrName: string) {
    const l = (await repo.get(accountId, idOrName)) ?? (await repo.byName(accountId, idOrName));
    if (!l) fail('E_NOT_FOUND', 'list not found');
    return l;
  }
  return {
    async create(accountId: string, input: { name: string; description?: string }) {
      checkName(input.name);
      if (await repo.byName(accountId, input.name)) fail('E_CONFLICT', `a list named "${input.name}" exists`);
      const id = newId('lst_');
      const t = now();
      // RFC 2919 list-label: dot-atom-text; the id never changes, so the List-Id persists (§4).
      const row = { id, account_id: accountId, name: input.name, label: id.replace(/_/g, '-'), description: input.description ?? '', created_at: t, updated_at: t };
      await repo.insert(row);
      return row;
    },
    get: must,
    async show(accountId: string, idOrName: string) {
      const l = await must(accountId, idOrName);
      const counts: Record<string, number> = { subscribed: 0, unsubscribed: 0, pending: 0 };
      for (const c of await repo.counts(accountId, l.id)) counts[c.status] = Number(c.n);
      return { ...l, counts };
    },
    list: (accountId: string) => repo.list(accountId),
    async update(accountId: string, id: string, patch: { name?: string; description?: string }) {
      const l = await must(accountId, id);
      if (patch.name !== undefined) {
        checkName(patch.name);
        const other = await repo.byName(accountId, patch.name);
        if (other && other.id !== l.id) fail('E_CONFLICT', `a list named "${patch.name}" exists`);
      }
      await repo.update(accountId, l.id, { ...patch, updated_at: now() });
      return must(accountId, l.id);
    },
    async remove(accountId: string, id: string) {
      const l = await must(accountId, id);
      await deps.store.db.transaction().execute(async (tx) => {
        // Campaigns keep their list ids for List-Id, stats and unsubscribe pages, so a list a
        // campaign has named stays (checked inside the transaction that deletes).
        const inTx = listsRepo({ ...deps.store, db: tx });
        const used = await inTx.usedByCampaign(accountId, l.id);
        if (used) fail('E_STATE', `campaign ${used.id} (${used.status}) uses this list`);
        // A relay filter marks mail as subscription mail of this list (issue 7): remove the filter first.
        const filter = await inTx.usedByRelayFilter(accountId, l.id);
        if (filter) fail('E_STATE', `relay filter ${filter.id} uses this list`);
        await tx.deleteFrom('subscriptions').where('account_id', '=', accountId).where('list_id', '=', l.id).execute();
        await tx.deleteFrom('lists').where('account_id', '=', accountId).where('id', '=', l.id).execute();
      });
    },
  };
}

/** The lists core's type. */
export type ListsCore = ReturnType<typeof listsCore>;
