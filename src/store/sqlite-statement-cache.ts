import type Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** How many prepared statements one connection keeps (least recently used go first). */
export const STATEMENT_CACHE_SIZE = 256;

/** DDL changes the schema: cached statements are dropped (see StatementCache). */
const SCHEMA_CHANGE = /^\s*(create|drop|alter)\b/i;

/**
 * Prepared statements of one better-sqlite3 connection, keyed by SQL text and bounded (LRU):
 * Kysely's SQLite driver prepares every statement on every execution (the sending worker's main
 * thread spent ~3 % of its samples in `prepare` alone, issue 3) although it runs the same few
 * SQL texts over and over. Ad-hoc SQL (`in (?, ?, …)` lists of every length) cannot grow it
 * beyond `max`: the least recently used statement is dropped.
 *
 * - A statement that is busy (an unfinished `iterate()`, e.g. Kysely's `stream()`) is never
 *   handed out again: the caller gets a freshly prepared, uncached one, since better-sqlite3
 *   throws "This statement is busy executing a query" when a busy statement is reused.
 * - DDL (create/drop/alter) is not cached and empties the cache: statements prepared for the old
 *   schema are not kept (better-sqlite3 prepares with sqlite3_prepare_v3, which recompiles a
 *   statement transparently on SQLITE_SCHEMA anyway, e.g. after another connection migrated).
 * - Statements do not keep the database open: `db.close()` finalises every statement of the
 *   connection; `clear()` drops the references.
 *
 * Callers must not change a cached statement's modes (`pluck`, `raw`, `expand`,
 * `safeIntegers`): the statement is shared with every other caller of the same SQL text.
 */
export class StatementCache {
  readonly #db: Database.Database;
  readonly #max: number;
  /** Insertion order is recency order: the first key is the least recently used. */
  readonly #map = new Map<string, Database.Statement>();

  constructor(db: Database.Database, max = STATEMENT_CACHE_SIZE) {
    if (!(max >= 1)) throw new Error(`statement cache size must be >= 1, got ${max}`);
    this.#db = db;
    this.#max = max;
  }

  /** A prepared statement for `text`: the cached one if it is idle, else a new one. */
  prepare(text: string): Database.Statement {
    const m = this.#map;
    let s = m.get(text);
    if (s !== undefined) {
      if (s.busy) return this.#db.prepare(text);
      m.delete(text);
      m.set(text, s);
      return s;
    }
    s = this.#db.prepare(text);
    if (SCHEMA_CHANGE.test(text)) {
      m.clear();
      return s;
    }
    m.set(text, s);
    if (m.size > this.#max) m.delete(m.keys().next().value as string);
    return s;
  }

  /** Drops every cached statement. */
  clear(): void {
    this.#map.clear();
  }

  /** How many statements are cached. */
  get size(): number {
    return this.#map.size;
  }
}

const CACHES = new WeakMap<Database.Database, StatementCache>();

/** The one statement cache of a connection (shared by Kysely's driver and sqlite-fast.ts). */
export function statementCache(sqlite: Database.Database): StatementCache {
  let c = CACHES.get(sqlite);
  if (!c) CACHES.set(sqlite, (c = new StatementCache(sqlite)));
  return c;
}

/**
 * The connection as Kysely's SqliteDialect sees it, with prepared statements cached:
 * `new SqliteDialect({ database: cachingDatabase(sqlite) })`. `close()` closes the connection.
 */
export function cachingDatabase(sqlite: Database.Database): SqliteDatabase {
  const cache = statementCache(sqlite);
  return {
    prepare: (text) => cache.prepare(text),
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}
