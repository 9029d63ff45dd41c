import type { Db } from './db.js';
import { sqliteTransaction, stmt } from './sqlite-fast.js';
import { applySkipsSqlite, blockedHits, PENDING_SQL } from './suppression-effects.js';

/** One verified one-click request (the token's payload and the request's evidence). */
export interface OneClickRequest {
  accountId: string; subject: 'c' | 'm'; subjectId: number; listId: string; source: string; ip: string | null; ua: string | null;
}

/** What a one-click request resolved to (null: unknown subject or another account's, → 404). */
export interface OneClickTarget { accountId: string; listId: string; address: string; addressKey: string; contactId: number | null }

const SQL = {
  contact: 'select account_id, address, address_key from contacts where id = ?',
  message: 'select account_id, rcpt, rcpt_key, contact_id from messages where id = ?',
  // One row per statement, bound: cheaper per row than one statement reading a JSON batch with
  // json_each and ->> (which parses every row's object once per column), issue 4 bench.
  ledger: `insert into suppressions (account_id, address_key, scope, list_id, reason, source, note, ip, user_agent, created_at)
    values (?, ?, ?, ?, 'unsubscribe', ?, null, ?, ?, ?) on conflict do nothing`,
  // One writer and AUTOINCREMENT ids: every row from the smallest new id on is this batch's (as in suppressions-repo).
  history: `insert into suppression_history (account_id, address_key, action, scope, list_id, reason, source, note, ip, user_agent, created_at)
    select account_id, address_key, 'add', scope, list_id, reason, source, note, ip, user_agent, created_at from suppressions where id >= ?`,
  pending: `select m.id, m.account_id, m.campaign_id, m.rcpt_key, m.category, m.list_id
    from json_each(?) j join messages m on m.account_id = j.value->>0 and m.rcpt_key = j.value->>1 where m.status in (${PENDING_SQL})`,
  mark: `update subscriptions set status = 'unsubscribed', unsubscribed_at = ?, updated_at = ?
    where list_id = ? and contact_id = ? and account_id = ? and status != 'unsubscribed'`,
};

type ContactRow = { account_id: string; address: string; address_key: string };
type MessageRow = { account_id: string; rcpt: string; rcpt_key: string; contact_id: number | null };
type Added = { account_id: string; address_key: string; scope: string; list_id: string; reason: string };

/**
 * The one-click batch on SQLite in one transaction with cached prepared statements (issue 4
 * bench): per request, resolve the subject, insert the ledger row and mark the subscription
 * unsubscribed; then the 'add' history of the new rows and the skip of the pending mail they
 * block, with an event each (R-UNSUB-9). The same effects as the Kysely path in
 * src/core/unsubscribe.ts (which PostgreSQL takes).
 */
export function oneClickSqlite(store: Db, items: OneClickRequest[], now: number): Promise<Array<OneClickTarget | null>> {
  return sqliteTransaction(store, (sq) => {
    const contact = stmt(sq, SQL.contact);
    const message = stmt(sq, SQL.message);
    const ledger = stmt(sq, SQL.ledger);
    const mark = stmt(sq, SQL.mark);
    const targets: Array<OneClickTarget | null> = new Array(items.length);
    const added: Added[] = [];
    let firstId = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      let t: OneClickTarget | null = null;
      if (it.subject === 'c') {
        const c = contact.get(it.subjectId) as ContactRow | undefined;
        // The subject must belong to the token's account (isolation); otherwise 404.
        if (c && c.account_id === it.accountId) t = { accountId: it.accountId, listId: it.listId, address: c.address, addressKey: c.address_key, contactId: it.subjectId };
      } else {
        const m = message.get(it.subjectId) as MessageRow | undefined;
        if (m && m.account_id === it.accountId) {
          t = { accountId: it.accountId, listId: it.listId, address: m.rcpt, addressKey: m.rcpt_key, contactId: m.contact_id == null ? null : Number(m.contact_id) };
        }
      }
      targets[i] = t;
      if (!t) continue;
      const scope = it.listId ? 'list' : 'account';
      const r = ledger.run(it.accountId, t.addressKey, scope, it.listId, it.source, it.ip, it.ua, now);
      if (r.changes) {
        if (!firstId) firstId = Number(r.lastInsertRowid);
        added.push({ account_id: it.accountId, address_key: t.addressKey, scope, list_id: it.listId, reason: 'unsubscribe' });
      }
      if (t.contactId && it.listId) mark.run(now, now, it.listId, t.contactId, it.accountId);
    }
    if (added.length) {
      stmt(sq, SQL.history).run(firstId);
      const byKey = new Map<string, Added[]>();
      for (const e of added) {
        const k = `${e.account_id}\u0000${e.address_key}`;
        const g = byKey.get(k);
        if (g) g.push(e);
        else byKey.set(k, [e]);
      }
      const pending = stmt(sq, SQL.pending).all(JSON.stringify([...byKey.keys()].map((k) => k.split('\u0000')))) as Array<{ id: number; account_id: string; campaign_id: string | null; rcpt_key: string; category: string; list_id: string | null }>;
      if (pending.length) applySkipsSqlite(sq, blockedHits(pending, (m) => byKey.get(`${m.account_id}\u0000${m.rcpt_key}`)), now);
    }
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
