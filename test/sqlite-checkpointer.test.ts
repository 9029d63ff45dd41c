import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../src/store/db.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'tegami-ckpt-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/**
 * SQLite WAL checkpoints run on a thread with its own connection (src/store/sqlite-checkpointer.ts,
 * issue 4: the one-click POST's p99): the main connection never checkpoints automatically, the
 * thread copies the WAL into the database file, and nothing committed is lost to a kill -9.
 */
describe('SQLite WAL checkpointer thread', () => {
  it('the main connection checkpoints only past 4,096 WAL pages; the thread copies committed pages into the database file', async () => {
    const file = join(tmp(), 'c.db');
    const store = openDb({ url: `sqlite:${file}` });
    try {
      const sq = store.sqlite!;
      expect(sq.pragma('wal_autocheckpoint', { simple: true })).toBe(4096);
      sq.exec('create table t (id integer primary key, v text)');
      const before = statSync(file).size;
      const ins = sq.prepare('insert into t (v) values (?)');
      for (let i = 0; i < 50; i++) sq.transaction(() => { for (let j = 0; j < 40; j++) ins.run('x'.repeat(500)); })();
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(1_000_000);
      // The thread's timer (every 200 ms) copies the pages: the database file grows with no call from here.
      const deadline = Date.now() + 5000;
      while (statSync(file).size < before + 1_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(statSync(file).size).toBeGreaterThan(before + 1_000_000);
      // And on demand: everything in the WAL is in the database file.
      ins.run('last');
      const r = await store.checkpoint!();
      expect(r.busy).toBe(0);
      expect(r.log).toBeGreaterThan(0);
      expect(r.checkpointed).toBe(r.log);
    } finally {
      await store.close();
    }
    const again = openDb({ url: `sqlite:${file}` });
    expect((again.sqlite!.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(2001);
    await again.close();
  });

  it('keeps the WAL bounded under sustained writes (a PASSIVE checkpoint alone never catches up with the writer)', async () => {
    const file = join(tmp(), 'b.db');
    const store = openDb({ url: `sqlite:${file}` });
    try {
      const sq = store.sqlite!;
      sq.exec('create table t (id integer primary key, v text)');
      const ins = sq.prepare('insert into t (v) values (?)');
      let maxWal = 0;
      // ~200 MB written in small transactions, yielding to the event loop as a server would.
      for (let round = 0; round < 200; round++) {
        sq.transaction(() => { for (let j = 0; j < 1000; j++) ins.run('z'.repeat(1000)); })();
        maxWal = Math.max(maxWal, statSync(`${file}-wal`).size);
        await new Promise((r) => setTimeout(r, 2));
      }
      // With the thread's PASSIVE checkpoints alone the WAL grew with everything written
      // (~200 MB); the main connection's own checkpoint past 4,096 pages lets it start over.
      expect(maxWal).toBeLessThan(100_000_000);
      expect(statSync(file).size).toBeGreaterThan(100_000_000);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a transaction that reads and then writes is never refused while the thread checkpoints (no "database is locked")', async () => {
    const file = join(tmp(), 'r.db');
    const store = openDb({ url: `sqlite:${file}` });
    try {
      await sql`create table t (id integer primary key, v text)`.execute(store.db);
      // Read-then-write transactions (as the contact import runs them) while the WAL keeps growing
      // past the size where the old RESTART checkpoint held writers off.
      for (let round = 0; round < 300; round++) {
        await store.db.transaction().execute(async (tx) => {
          await sql`select count(*) from t`.execute(tx);
          for (let j = 0; j < 50; j++) await sql`insert into t (v) values (${'r'.repeat(1000)})`.execute(tx);
        });
        if (round % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      expect(Number((await sql<{ n: number }>`select count(*) as n from t`.execute(store.db)).rows[0].n)).toBe(15_000);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a process killed with SIGKILL while writing keeps every transaction it reported committed', async () => {
    const dir = tmp();
    const file = join(dir, 'k.db');
    const script = join(dir, 'writer.mts');
    // Commits one row per transaction and reports each id after its commit, until killed.
    writeFileSync(script, `
      import { openDb } from ${JSON.stringify(join(ROOT, 'src/store/db.ts'))};
      const store = openDb({ url: ${JSON.stringify(`sqlite:${file}`)} });
      const sq = store.sqlite!;
      sq.exec('create table if not exists t (id integer primary key, v text)');
      const ins = sq.prepare('insert into t (v) values (?)');
      const tick = () => {
        for (let i = 0; i < 20; i++) {
          const id = sq.transaction(() => Number(ins.run('y'.repeat(300)).lastInsertRowid))();
          process.stdout.write(id + '\\n');
        }
        setImmediate(tick);
      };
      tick();
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let lastReported = 0;
    await new Promise<void>((resolve) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const lines = out.split('\n');
        lastReported = Number(lines[lines.length - 2] ?? 0);
        // Past several checkpointer rounds' worth of writes: kill without warning.
        if (lastReported >= 20_000 && child.exitCode === null && !child.killed) { child.kill('SIGKILL'); resolve(); }
      });
    });
    await new Promise((r) => child.once('exit', r));
    // The thread had checkpointed while the writer ran (the database file holds most rows already).
    expect(statSync(file).size).toBeGreaterThan(1_000_000);
    const store = openDb({ url: `sqlite:${file}` });
    try {
      const { n, max } = store.sqlite!.prepare('select count(*) as n, max(id) as max from t').get() as { n: number; max: number };
      expect(max).toBeGreaterThanOrEqual(lastReported);
      expect(n).toBe(max);
      expect(store.sqlite!.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await store.close();
    }
  }, 60_000);
});
