import type { Deps } from '../app/deps.js';
import { tokenKeys, verifyUnsubscribeToken, type UnsubscribePayload } from '../domain/unsubscribe-token.js';
import { groupCommit } from './group-commit.js';
import { oneClickSqlite, unsubscribeRepo, type OneClickRequest } from '../store/unsubscribe-repo.js';
import type { NewEntry } from '../store/suppressions-repo.js';
import type { ChangeContext, SuppressionsCore } from './suppressions.js';

/** Who asked (evidence), from where, and whether the caller needs the account and list names. */
type UnsubscribeContext = Omit<ChangeContext, 'source'> & { source?: string; names?: boolean };

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
    return p ? resolvePayload(p, names) : null;
  }

  /** Resolves a verified payload (from a URL token, or the short mailto form's message row). */
  async function resolvePayload(p: UnsubscribePayload, names = true): Promise<UnsubscribeTarget | null> {
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

  // The committer's item is the store's request as is (no copy per batch on SQLite).
  const committer = groupCommit<OneClickRequest, UnsubscribeTarget | null>(async (items) => {
    if (deps.store.sqlite) {
      // SQLite: the whole batch in one synchronous transaction with cached statements (same effects as below).
      const out = await oneClickSqlite(deps.store, items, deps.clock.now());
      const targets: Array<UnsubscribeTarget | null> = new Array(out.length);
      for (let i = 0; i < out.length; i++) {
        const t = out[i];
        targets[i] = t && { accountId: t.accountId, accountName: '', listId: t.listId, listName: null, address: t.address, addressKey: t.addressKey, contactId: t.contactId };
      }
      return targets;
    }
    const contacts = new Map((await repo.contacts(items.filter((i) => i.subject === 'c').map((i) => i.subjectId))).map((c) => [Number(c.id), c]));
    const messages = new Map((await repo.messages(items.filter((i) => i.subject === 'm').map((i) => i.subjectId))).map((m) => [Number(m.id), m]));
    const targets: Array<UnsubscribeTarget | null> = items.map((p) => {
      const row = p.subject === 'c' ? contacts.get(p.subjectId) : messages.get(p.subjectId);
      // The subject must belong to the token's account (isolation); otherwise 404.
      if (!row || row.account_id !== p.accountId) return null;
      const [address, addressKey] = 'address' in row ? [row.address, row.address_key] : [row.rcpt, row.rcpt_key];
      const contactId = 'address' in row ? Number(row.id) : row.contact_id ? Number(row.contact_id) : null;
      return { accountId: p.accountId, accountName: '', listId: p.listId, listName: null, address, addressKey, contactId };
    });
    const now = deps.clock.now();
    await deps.store.db.transaction().execute(async (tx) => {
      const txStore = { ...deps.store, db: tx };
      // Grouped per (account, source); the stored address_key is already canonical, so no re-parse.
      const groups = new Map<string, NewEntry[]>();
      items.forEach((it, i) => {
        const t = targets[i];
        if (!t) return;
        const k = `${t.accountId}\u0000${it.source}`;
        const row = { k: t.addressKey, s: t.listId ? 'list' : 'account', l: t.listId, r: 'unsubscribe', n: null, ip: it.ip, ua: it.ua };
        const g = groups.get(k);
        if (g) g.push(row);
        else groups.set(k, [row]);
      });
      for (const [k, rows] of groups) {
        const [accountId, source] = k.split('\u0000');
        await suppressions.addRowsIn(txStore, accountId, rows, source);
      }
      const marks = new Map<string, number[]>();
      for (const t of targets) {
        if (!t?.contactId || !t.listId) continue;
        const k = `${t.accountId}\u0000${t.listId}`;
        const m = marks.get(k);
        if (m) m.push(t.contactId);
        else marks.set(k, [t.contactId]);
      }
      for (const [k, ids] of marks) {
        const [accountId, listId] = k.split('\u0000');
        await unsubscribeRepo(txStore).markUnsubscribed(accountId, ids, listId, now);
      }
    });
    return targets;
  });

  const submit = (p: UnsubscribePayload, source: string, ip: string | undefined, ua: string | undefined) => committer.submit({
    accountId: p.accountId, subject: p.subject, subjectId: p.subjectId, listId: p.listId, source, ip: ip ?? null, ua: ua ?? null,
  });

  return {
    resolve,
    /**
     * Suppresses the token's (list, recipient) and commits before returning (R-UNSUB-4, R-UNSUB-9).
     * Concurrent requests share one transaction (group commit); each answers after its commit.
     * Idempotent.
     */
    async unsubscribe(token: string, ctx: UnsubscribeContext): Promise<UnsubscribeTarget | null> {
      const p = verifyUnsubscribeToken(keys, token);
      return p ? this.unsubscribePayload(p, ctx) : null;
    },
    /** The same for a payload already verified (the inbound mailto handler). */
    async unsubscribePayload(p: UnsubscribePayload, ctx: UnsubscribeContext): Promise<UnsubscribeTarget | null> {
      const done = await submit(p, ctx.source ?? 'one-click', ctx.ip, ctx.userAgent);
      if (!done) return null;
      return ctx.names === false ? done : resolvePayload(p);
    },
    /**
     * The one-click POST's path (R-UNSUB-4): the token is verified at once (null → 404 without
     * waiting), otherwise the promise settles after the batch holding this suppression has
     * committed, with the target without account and list names. No async layers in between:
     * this is the one-click endpoint's hot path (issue 4 bench).
     */
    oneClick(token: string, ip: string | undefined, userAgent: string | undefined): Promise<UnsubscribeTarget | null> | null {
      const p = verifyUnsubscribeToken(keys, token);
      return p && submit(p, 'one-click', ip, userAgent);
    },
    resolvePayload,
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
