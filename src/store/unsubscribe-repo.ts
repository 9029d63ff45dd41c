import type { Db } from './db.js';
import { sqliteTransaction, stmt } from './sqlite-fast.js';
import { applySkipsSqlite, blockedHits, PENDING_SQL } from './suppression-effects.js';

/** One verified one-click request (the token's payload and the request's evidence). */
export interface OneClickRequest {
  accountId: string; subject: 'c' | 'm'; subjectId: number; listId: string; source: string; ip: string | null; ua: string | null;
}

/** What a one-click request resolved to (null: unknown subject or another account's, → 404). */
export interface OneClickTarget { accountId: string; listId: string; address: string; addressKey: string; contactId: number | null }

type SubjectRow = { id: number; account_id: string; address: string; address_key: string; contact_id: number | null };

const SQL = {
  contacts: 'select id, account_id, address, address_key, id as contact_id from contacts where id in (select value from json_each(?))',
  messages: 'select id, account_id, rcpt as address, rcpt_key as address_key, contact_id from messages where id in (select value from json_each(?))',
  // One statement for the batch whatever its accounts and sources: the per-row values travel in one JSON parameter.
  ledger: `insert into suppressions (account_id, address_key, scope, list_id, reason, source, note, ip, user_agent, created_at)
    select j.value->>'a', j.value->>'k', j.value->>'s', j.value->>'l', 'unsubscribe', j.value->>'src', null, j.value->>'ip', j.value->>'ua', ?
    from json_each(?) j where true on conflict do nothing returning id, account_id, address_key, scope, list_id, reason`,
  // One writer and AUTOINCREMENT ids: every row from the smallest new id on is this batch's (as in suppressions-repo).
  history: `insert into suppression_history (account_id, address_key, action, scope, list_id, reason, source, note, ip, user_agent, created_at)
    select account_id, address_key, 'add', scope, list_id, reason, source, note, ip, user_agent, created_at from suppressions where id >= ?`,
  pending: `select m.id, m.account_id, m.campaign_id, m.rcpt_key, m.category, m.list_id
    from json_each(?) j join messages m on m.account_id = j.value->>0 and m.rcpt_key = j.value->>1 where m.status in (${PENDING_SQL})`,
  mark: `update subscriptions set status = 'unsubscribed', unsubscribed_at = ?, updated_at = ? where status != 'unsubscribed' and id in (
    select s.id from json_each(?) j join subscriptions s on s.list_id = j.value->>'l' and s.contact_id = j.value->>'c' and s.account_id = j.value->>'a')`,
};

/**
 * The one-click batch on SQLite in one transaction with cached prepared statements (issue 4
 * bench): resolve the subjects, insert the ledger rows with their 'add' history, skip the
 * pending mail they block with an event each (R-UNSUB-9), mark the subscriptions unsubscribed.
 * The same effects as the Kysely path in src/core/unsubscribe.ts (which PostgreSQL takes).
 */
export function oneClickSqlite(store: Db, items: OneClickRequest[], now: number): Promise<Array<OneClickTarget | null>> {
  return sqliteTransaction(store, (sq) => {
    const ids = (subject: 'c' | 'm') => items.filter((i) => i.subject === subject).map((i) => i.subjectId);
    const load = (text: string, list: number[]) => new Map((list.length ? stmt(sq, text).all(JSON.stringify(list)) as SubjectRow[] : []).map((r) => [Number(r.id), r]));
    const contacts = load(SQL.contacts, ids('c'));
    const messages = load(SQL.messages, ids('m'));
    const targets = items.map((it): OneClickTarget | null => {
      const row = (it.subject === 'c' ? contacts : messages).get(it.subjectId);
      // The subject must belong to the token's account (isolation); otherwise 404.
      if (!row || row.account_id !== it.accountId) return null;
      return { accountId: it.accountId, listId: it.listId, address: row.address, addressKey: row.address_key, contactId: row.contact_id == null ? null : Number(row.contact_id) };
    });
    const rows = items.flatMap((it, i) => {
      const t = targets[i];
      return t ? [{ a: t.accountId, k: t.addressKey, s: t.listId ? 'list' : 'account', l: t.listId, src: it.source, ip: it.ip, ua: it.ua }] : [];
    });
    if (!rows.length) return targets;
    const added = stmt(sq, SQL.ledger).all(now, JSON.stringify(rows)) as Array<{ id: number; account_id: string; address_key: string; scope: string; list_id: string; reason: string }>;
    if (added.length) {
      stmt(sq, SQL.history).run(added.reduce((m, r) => Math.min(m, Number(r.id)), Infinity));
      const byKey = new Map<string, typeof added>();
      for (const e of added) {
        const k = `${e.account_id}\u0000${e.address_key}`;
        byKey.set(k, [...(byKey.get(k) ?? []), e]);
      }
      const pending = stmt(sq, SQL.pending).all(JSON.stringify([...byKey.keys()].map((k) => k.split('\u0000')))) as Array<{ id: number; account_id: string; campaign_id: string | null; rcpt_key: string; category: string; list_id: string | null }>;
      applySkipsSqlite(sq, blockedHits(pending, (m) => byKey.get(`${m.account_id}\u0000${m.rcpt_key}`)), now);
    }
    const marks = targets.flatMap((t) => (t?.contactId && t.listId ? [{ a: t.accountId, l: t.listId, c: t.contactId }] : []));
    if (marks.length) stmt(sq, SQL.mark).run(now, now, JSON.stringify(marks));
    return targets;
  });
}

/** Lookups behind the public unsubscribe pages; every query carries the token's account. */
export function unsubscribeRepo({ db }: Db) {
  return {
    contact: (accountId: string, id: number) =>
      db.selectFrom('contacts').select(['id', 'address', 'address_key']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    message: (accountId: string, id: number) =>
      db.selectFrom('messages').select(['id', 'rcpt', 'rcpt_key', 'contact_id']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    contacts: (ids: number[]) =>
      ids.length ? db.selectFrom('contacts').select(['id', 'account_id', 'address', 'address_key']).where('id', 'in', ids).execute() : Promise.resolve([]),
    messages: (ids: number[]) =>
      ids.length ? db.selectFrom('messages').select(['id', 'account_id', 'rcpt', 'rcpt_key', 'contact_id']).where('id', 'in', ids).execute() : Promise.resolve([]),
    account: (id: string) => db.selectFrom('accounts').select(['id', 'name']).where('id', '=', id).executeTakeFirst(),
    lists: (accountId: string) => db.selectFrom('lists').select(['id', 'name']).where('account_id', '=', accountId).orderBy('name').execute(),
    /** Marks the contact's subscription unsubscribed too, so lists show the truth. */
    markUnsubscribed: (accountId: string, contactIds: number[], listId: string, now: number) =>
      db.updateTable('subscriptions').set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
        .where('account_id', '=', accountId).where('contact_id', 'in', contactIds).where('list_id', '=', listId).where('status', '!=', 'unsubscribed').execute(),
  };
}
