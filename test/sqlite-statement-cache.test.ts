import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { stmt } from '../src/store/sqlite-fast.js';
import { cachingDatabase, StatementCache, statementCache, STATEMENT_CACHE_SIZE } from '../src/store/sqlite-statement-cache.js';

interface T { t: { id: number; v: string } }

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-stmt-cache-'));
  dirs.push(dir);
  const file = join(dir, 'x.db');
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  const db = new Kysely<T>({ dialect: new SqliteDialect({ database: cachingDatabase(sqlite) }) });
  return { file, sqlite, db, cache: statementCache(sqlite) };
}

async function seed(db: Kysely<T>, n: number) {
  await db.schema.createTable('t').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('v', 'text', (c) => c.notNull()).execute();
  for (let i = 1; i <= n; i++) await db.insertInto('t').values({ id: i, v: `v${i}` }).execute();
}

describe('SQLite prepared-statement cache', () => {
  it('hands out the same statement for the same SQL text, and one cache per connection', () => {
    const { sqlite, cache } = open();
    sqlite.exec('create table t (id integer primary key, v text not null)');
    const a = cache.prepare('select * from t where id = ?');
    expect(cache.prepare('select * from t where id = ?')).toBe(a);
    expect(cache.prepare('select * from t where id > ?')).not.toBe(a);
    expect(statementCache(sqlite)).toBe(cache);
    // sqlite-fast's stmt() is the same cache.
    expect(stmt(sqlite, 'select * from t where id = ?')).toBe(a);
    sqlite.close();
  });

  it('is bounded: the least recently used statement goes first', () => {
    const sqlite = new Database(':memory:');
    const c = new StatementCache(sqlite, 3);
    const s1 = c.prepare('select 1');
    const s2 = c.prepare('select 2');
    c.prepare('select 3');
    expect(c.prepare('select 1')).toBe(s1); // 1 is now the most recent: 2 is the oldest
    c.prepare('select 4');
    expect(c.size).toBe(3);
    expect(c.prepare('select 1')).toBe(s1);
    expect(c.prepare('select 2')).not.toBe(s2); // evicted, prepared again
    for (let i = 0; i < 1000; i++) c.prepare(`select ${i} as x`);
    expect(c.size).toBe(3);
    expect(STATEMENT_CACHE_SIZE).toBeGreaterThanOrEqual(64);
    expect(() => new StatementCache(sqlite, 0)).toThrow();
    sqlite.close();
  });

  it('never hands out a statement that is busy iterating', () => {
    const sqlite = new Database(':memory:');
    sqlite.exec('create table t (id integer primary key, v text not null)');
    for (let i = 1; i <= 5; i++) sqlite.prepare('insert into t values (?, ?)').run(i, `v${i}`);
    const c = new StatementCache(sqlite);
    const q = 'select id from t where id > ? order by id';
    const outer = c.prepare(q);
    const seen: number[] = [];
    for (const row of outer.iterate(0) as Iterable<{ id: number }>) {
      expect(outer.busy).toBe(true);
      const inner = c.prepare(q);
      expect(inner).not.toBe(outer);
      // Would throw "This statement is busy executing a query" on the busy one.
      expect((inner.all(row.id) as Array<{ id: number }>).map((r) => r.id)).toEqual([1, 2, 3, 4, 5].filter((x) => x > row.id));
      seen.push(row.id);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(outer.busy).toBe(false);
    expect(c.prepare(q)).toBe(outer); // the cached one again once the iteration is over
    sqlite.close();
  });

  it('runs Kysely queries with the same results, streams included (also after a stream is abandoned)', async () => {
    const { db, cache } = open();
    await seed(db, 20);
    const ins = await db.insertInto('t').values({ id: 21, v: 'v21' }).returning(['id', 'v']).executeTakeFirstOrThrow();
    expect(ins).toEqual({ id: 21, v: 'v21' });
    const upd = await db.updateTable('t').set({ v: 'x' }).where('id', '<=', 3).executeTakeFirst();
    expect(upd.numUpdatedRows).toBe(3n);
    const ins2 = await db.insertInto('t').values({ id: 22, v: 'v22' }).executeTakeFirst();
    expect(ins2.insertId).toBe(22n);
    for (let i = 0; i < 3; i++) {
      const rows = await db.selectFrom('t').select(['id', 'v']).where('id', '>', 19).orderBy('id').execute();
      expect(rows).toEqual([{ id: 20, v: 'v20' }, { id: 21, v: 'v21' }, { id: 22, v: 'v22' }]);
    }
    const streamed: number[] = [];
    const stream = () => db.selectFrom('t').select('id').where('id', '>', 0).orderBy('id').stream();
    for await (const r of stream()) { streamed.push(r.id); if (streamed.length === 2) break; }
    expect(streamed).toEqual([1, 2]);
    // The abandoned stream's statement was reset: the same query runs, by execute and by stream.
    expect((await db.selectFrom('t').select('id').where('id', '>', 0).orderBy('id').execute()).length).toBe(22);
    let n = 0;
    for await (const _ of stream()) n++;
    expect(n).toBe(22);
    // Transactions (begin/commit/rollback go through the cache too).
    await expect(db.transaction().execute(async (tx) => {
      await tx.updateTable('t').set({ v: 'rolled back' }).where('id', '=', 1).execute();
      throw new Error('boom');
    })).rejects.toThrow('boom');
    await db.transaction().execute(async (tx) => { await tx.updateTable('t').set({ v: 'committed' }).where('id', '=', 2).execute(); });
    const vs = await db.selectFrom('t').select('v').where('id', 'in', [1, 2]).orderBy('id').execute();
    expect(vs.map((r) => r.v)).toEqual(['x', 'committed']);
    expect(cache.size).toBeGreaterThan(0);
    await db.destroy();
  });

  it('drops cached statements on a schema change and sees the new schema', async () => {
    const { db, cache } = open();
    await seed(db, 2);
    const q = () => sql<Record<string, unknown>>`select * from t order by id`.execute(db).then((r) => r.rows);
    expect(await q()).toEqual([{ id: 1, v: 'v1' }, { id: 2, v: 'v2' }]);
    expect(cache.size).toBeGreaterThan(0);
    await db.schema.alterTable('t').addColumn('w', 'text').execute();
    expect(cache.size).toBe(0);
    expect(await q()).toEqual([{ id: 1, v: 'v1', w: null }, { id: 2, v: 'v2', w: null }]);
    // A table dropped and created again with other columns.
    await db.schema.dropTable('t').execute();
    await db.schema.createTable('t').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('z', 'integer').execute();
    await sql`insert into t (id, z) values (7, 8)`.execute(db);
    expect(await q()).toEqual([{ id: 7, z: 8 }]);
    await db.destroy();
  });

  it('a schema change by another connection is seen through a cached statement', async () => {
    const { file, db, sqlite } = open();
    await seed(db, 1);
    const q = () => sql<Record<string, unknown>>`select * from t`.execute(db).then((r) => r.rows);
    expect(await q()).toEqual([{ id: 1, v: 'v1' }]);
    const other = new Database(file);
    other.exec('alter table t add column w integer default 5');
    other.close();
    expect(await q()).toEqual([{ id: 1, v: 'v1', w: 5 }]);
    expect(sqlite.open).toBe(true);
    await db.destroy();
  });

  it('close still closes the connection; cached statements do not keep it open', async () => {
    const { file, db, sqlite, cache } = open();
    await seed(db, 3);
    await db.selectFrom('t').selectAll().execute();
    const cached = cache.prepare('select count(*) as n from t');
    expect(cached.get()).toEqual({ n: 3 });
    await db.destroy();
    expect(sqlite.open).toBe(false);
    expect(cache.size).toBe(0);
    expect(() => cached.get()).toThrow(/database connection is not open/);
    // WAL mode: closing the last connection checkpoints and removes the -wal file.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = new Database(file);
    expect(again.prepare('select count(*) as n from t').get()).toEqual({ n: 3 });
    again.close();
  });
});
