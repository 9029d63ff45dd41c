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

/**
 * Runs `fn` in one SQLite transaction on the raw connection, holding Kysely's connection lock so
 * no Kysely transaction of another caller is open meanwhile (its statements and ours would share
 * one transaction otherwise). `fn` is synchronous: nothing else runs on the event loop between
 * BEGIN and COMMIT, and a throw rolls the whole transaction back.
 */
export async function sqliteTransaction<T>(store: Db, fn: (sqlite: Database.Database) => T): Promise<T> {
  const sqlite = store.sqlite;
  if (!sqlite) throw new Error('sqliteTransaction needs a SQLite store');
  return store.db.connection().execute(async () => sqlite.transaction(() => fn(sqlite)).immediate());
}
