import type { Deps } from '../app/deps.js';
import { tokenKeys, verifyUnsubscribeToken } from '../domain/unsubscribe-token.js';
import { unsubscribeRepo } from '../store/unsubscribe-repo.js';
import type { ChangeContext, SuppressionsCore } from './suppressions.js';

/** What a valid token points at. */
export interface UnsubscribeTarget {
  accountId: string;
  accountName: string;
  listId: string;
  listName: string | null;
  address: string;
  addressKey: string;
  contactId: number | null;
}

/**
 * One-click unsubscribe, resubscribe and the preference centre behind `/u/TOKEN` (issue 4,
 * R-UNSUB-3..9). The token is the only credential; an invalid one resolves to null (404).
 */
export function unsubscribeCore(deps: Deps, suppressions: SuppressionsCore) {
  const keys = tokenKeys(deps.masterKey);
  const repo = unsubscribeRepo(deps.store);

  /** Resolves a token; `names` adds the account and list names the pages show (not needed by POST). */
  async function resolve(token: string, names = true): Promise<UnsubscribeTarget | null> {
    const p = verifyUnsubscribeToken(keys, token);
    if (!p) return null;
    const account = names ? await repo.account(p.accountId) : { name: '' };
    if (!account) return null;
    let address: string;
    let addressKey: string;
    let contactId: number | null = null;
    if (p.subject === 'c') {
      const c = await repo.contact(p.accountId, p.subjectId);
      if (!c) return null;
      [address, addressKey, contactId] = [c.address, c.address_key, Number(c.id)];
    } else {
      const m = await repo.message(p.accountId, p.subjectId);
      if (!m) return null;
      [address, addressKey, contactId] = [m.rcpt, m.rcpt_key, m.contact_id ? Number(m.contact_id) : null];
    }
    const list = names ? (await repo.lists(p.accountId)).find((l) => l.id === p.listId) : undefined;
    return { accountId: p.accountId, accountName: account.name, listId: p.listId, listName: list?.name ?? null, address, addressKey, contactId };
  }

  return {
    resolve,
    /** Suppresses the token's (list, recipient) and commits before returning (R-UNSUB-4, R-UNSUB-9). Idempotent. */
    async unsubscribe(token: string, ctx: Omit<ChangeContext, 'source'> & { source?: string; names?: boolean }): Promise<UnsubscribeTarget | null> {
      const t = await resolve(token, ctx.names ?? true);
      if (!t) return null;
      await suppressions.add(t.accountId, [{ address: t.address, scope: t.listId ? 'list' : 'account', listId: t.listId || undefined, reason: 'unsubscribe' }], { source: ctx.source ?? 'one-click', ip: ctx.ip, userAgent: ctx.userAgent });
      if (t.contactId && t.listId) await repo.markUnsubscribed(t.accountId, t.contactId, t.listId, deps.clock.now());
      return t;
    },
    /** "Unsubscribed by mistake": the recipient removes the entry themselves. */
    async resubscribe(token: string, ctx: Omit<ChangeContext, 'source'>): Promise<UnsubscribeTarget | null> {
      const t = await resolve(token);
      if (!t) return null;
      const scope = t.listId ? 'list' : 'account';
      const existing = (await suppressions.get(t.accountId, t.address)).entries.find((e) => e.scope === scope && e.list_id === (t.listId || '') && e.reason === 'unsubscribe');
      if (existing) await suppressions.remove(t.accountId, t.address, scope, t.listId || null, { ...ctx, source: 'recipient-resubscribe', note: 'resubscribed by the recipient from the unsubscribe page' });
      return t;
    },
    /** The account's lists with the recipient's state, for the preference page (R-UNSUB-8). */
    async preferences(token: string) {
      const t = await resolve(token);
      if (!t) return null;
      const entries = (await suppressions.get(t.accountId, t.address)).entries;
      const all = entries.some((e) => e.scope === 'account');
      const lists = (await repo.lists(t.accountId)).map((l) => ({ id: l.id, name: l.name, subscribed: !entries.some((e) => e.scope === 'list' && e.list_id === l.id) }));
      return { target: t, all, lists };
    },
    /** Applies the preference form: unchecked lists are suppressed, checked ones restored (only unsubscribe entries). */
    async savePreferences(token: string, keep: Set<string>, stopAll: boolean, ctx: Omit<ChangeContext, 'source'>) {
      const pref = await this.preferences(token);
      if (!pref) return null;
      const { target: t } = pref;
      const c = { ...ctx, source: 'preference-page' };
      if (stopAll && !pref.all) await suppressions.add(t.accountId, [{ address: t.address, scope: 'account', reason: 'unsubscribe' }], c);
      if (!stopAll && pref.all) {
        const e = (await suppressions.get(t.accountId, t.address)).entries.find((x) => x.scope === 'account' && x.reason === 'unsubscribe');
        if (e) await suppressions.remove(t.accountId, t.address, 'account', null, { ...c, note: 'restored on the preference page' });
      }
      for (const l of pref.lists) {
        if (!keep.has(l.id) && l.subscribed) await suppressions.add(t.accountId, [{ address: t.address, scope: 'list', listId: l.id, reason: 'unsubscribe' }], c);
        if (keep.has(l.id) && !l.subscribed) {
          const e = (await suppressions.get(t.accountId, t.address)).entries.find((x) => x.scope === 'list' && x.list_id === l.id && x.reason === 'unsubscribe');
          if (e) await suppressions.remove(t.accountId, t.address, 'list', l.id, { ...c, note: 'resubscribed on the preference page' });
        }
      }
      return this.preferences(token);
    },
  };
}

/** The unsubscribe core's type. */
export type UnsubscribeCore = ReturnType<typeof unsubscribeCore>;
