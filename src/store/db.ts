import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { cachingDatabase } from './sqlite-statement-cache.js';
import { createRequire } from 'node:module';
import type pgModule from 'pg';
import { startCheckpointer, type CheckpointResult } from './sqlite-checkpointer.js';
import type { DB } from './types.js';

/** Which SQL dialect a store runs on; dialect differences are small named functions. */
export type Dialect = 'sqlite' | 'postgres';

/** An open database with its dialect. */
export interface Db {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
  /**
   * SQLite only: the better-sqlite3 connection under `db`, for the few dialect-specific fast
   * paths in src/store repositories (cached prepared statements). Use it only inside
   * `db.connection().execute(...)` (see sqlite-fast.ts): Kysely's driver serialises its single
   * connection with a mutex, and raw statements outside it could land in another caller's
   * open transaction.
   */
  sqlite?: Database.Database;
  /** SQLite files only: one PASSIVE WAL checkpoint on the checkpointer thread, now (tests, operations). */
  checkpoint?: () => Promise<CheckpointResult>;
}

/** Options for opening a store. */
export interface OpenOptions {
  url: string;
  poolSize?: number;
  /** PostgreSQL only: schema to use via search_path (tests isolate themselves this way). */
  schema?: string;
  /** SQLite only: page cache of the connection in MB (default: better-sqlite3's 16 MB). */
  sqliteCacheMb?: number;
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
    if (opts.sqliteCacheMb) sqlite.pragma(`cache_size = ${-Math.round(opts.sqliteCacheMb * 1024)}`);
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingDatabase(sqlite) }) });
    if (file === ':memory:' || file === '') return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
    // WAL checkpoints run on a thread with its own connection: with automatic checkpoints, the
    // commit that crosses 1,000 WAL pages copies them into the database file and fsyncs it on
    // the event loop (milliseconds, the one-click POST's p99, issue 4). If the thread dies, the
    // main connection checkpoints automatically again, so the WAL never grows without bound.
    // Under sustained writes (a bulk import) the thread's PASSIVE checkpoints never catch up with
    // the writer and the WAL is reset only after a checkpoint that copied every frame: past
    // 4,096 pages (16 MB) the main connection checkpoints after its commit, in its own thread,
    // where no other writer runs, so the WAL starts from the top again. Normal traffic never
    // reaches that size between two rounds of the thread, so the event loop does not checkpoint.
    // (Not RESTART on the thread: it holds writers off and fails their transactions, see there.)
    sqlite.pragma('wal_autocheckpoint = 4096');
    // After a reset the WAL file is cut back to this size (a burst of writes does not keep its disk space).
    sqlite.pragma('journal_size_limit = 67108864');
    const fallback = () => { if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000'); };
    const cp = startCheckpointer(file, { onExit: fallback });
    cp.ready.catch(fallback);
    return {
      db, dialect: 'sqlite', sqlite,
      checkpoint: () => cp.checkpoint(),
      async close() {
        // The checkpointer's connection first: the main one, closing last, checkpoints what is left and removes the WAL.
        await cp.stop();
        await db.destroy();
      },
    };
  }
  if (/^postgres(ql)?:\/\//.test(opts.url)) {
    // pg loads only for PostgreSQL: a SQLite process never pays for it (bench/send memory).
    const pg = createRequire(import.meta.url)('pg') as typeof pgModule;
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
