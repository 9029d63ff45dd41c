import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './types.js';

/** Which SQL dialect a store runs on; dialect differences are small named functions. */
export type Dialect = 'sqlite' | 'postgres';

/** An open database with its dialect. */
export interface Db {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Options for opening a store. */
export interface OpenOptions {
  url: string;
  poolSize?: number;
  /** PostgreSQL only: schema to use via search_path (tests isolate themselves this way). */
  schema?: string;
}

const INT8 = 20;
const NUMERIC = 1700;

/** Opens SQLite (`sqlite:PATH`, WAL) or PostgreSQL (`postgres://…`). */
export function openDb(opts: OpenOptions): Db {
  if (opts.url.startsWith('sqlite:')) {
    const file = opts.url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect: 'sqlite', close: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(opts.url)) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      // TCP keep-alive finds connections a restarted or failed-over server dropped silently.
      keepAlive: true,
      options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
      },
    });
    // A dropped connection must not crash the process; the pool replaces it. The pool only
    // listens for errors on idle clients: a client that is checked out (between two statements
    // of a transaction) when PostgreSQL restarts or kills its backend emits 'error' with no
    // listener, which would be an uncaught exception. The statement in flight fails instead,
    // the client is not queryable any more and the pool discards it on release; the caller's
    // loop retries (src/send/runner.ts).
    pool.on('error', () => {});
    pool.on('connect', (client) => { client.on('error', () => {}); });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  throw new Error(`unsupported database url: ${opts.url.replace(/:[^:@/]*@/, ':***@')}`);
}
