import type Database from 'better-sqlite3';
import type { Db } from './db.js';
import { statementCache } from './sqlite-statement-cache.js';

/**
 * A prepared statement cached per connection: Kysely's SQLite driver prepares every statement on
 * every execution, which the one-click hot path cannot afford (issue 4 bench: ~6 % of its CPU).
 * The cache is the connection's one statement cache (sqlite-statement-cache.ts), which Kysely's
 * driver uses too. Only for constant SQL text (values are always bound, lists are passed as one
 * JSON parameter); do not change the statement's modes (pluck, raw, …): it is shared.
 */
export function stmt(sqlite: Database.Database, text: string): Database.Statement {
  return statementCache(sqlite).prepare(text);
}

type Body = (sqlite: Database.Database) => unknown;
/** One better-sqlite3 transaction wrapper per connection: `db.transaction()` builds five functions per call. */
const wrappers = new WeakMap<Database.Database, Database.Transaction<(fn: Body) => unknown>>();
function wrapperOf(sqlite: Database.Database): Database.Transaction<(fn: Body) => unknown> {
  let tx = wrappers.get(sqlite);
  if (!tx) wrappers.set(sqlite, (tx = sqlite.transaction((body: Body) => body(sqlite))));
  return tx;
}

/**
 * Runs `fn` in one SQLite transaction (BEGIN IMMEDIATE) on the raw connection, never inside a
 * Kysely transaction of another caller (its statements and ours would share that transaction,
 * and its rollback would take ours). `fn` is synchronous: nothing else runs on the event loop
 * between BEGIN and COMMIT, and a throw rolls the whole transaction back. So when the connection
 * is not in a transaction now, none can open before our COMMIT and `fn` runs at once; otherwise
 * it waits for Kysely's connection lock, which the open transaction holds until it ends. (Waiting
 * for the lock every time built a Kysely instance per call: ~4 KB a one-click POST, issue 4.)
 */
export async function sqliteTransaction<T>(store: Db, fn: (sqlite: Database.Database) => T): Promise<T> {
  const sqlite = store.sqlite;
  if (!sqlite) throw new Error('sqliteTransaction needs a SQLite store');
  const tx = wrapperOf(sqlite);
  if (!sqlite.inTransaction) return tx.immediate(fn) as T;
  return store.db.connection().execute(async () => tx.immediate(fn) as T);
}
