import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeJson } from './helpers/node-child.js';
import { createApp } from '../src/app/create-app.js';
import { mainThreadRenders, SERVE_NODE_FLAGS, sqliteCacheMb, WORKER_ENV, WORKER_NODE_FLAGS } from '../src/app/worker-memory.js';
import { defaultConfig, defaultRenderThreads } from '../src/config/defaults.js';

/**
 * Issue 3 (bench/send, peak RSS of the sending process): a dedicated worker process (worker
 * role, no api role) runs with a small SQLite page cache and a bounded V8 heap growth factor;
 * a process that also serves HTTP keeps the larger defaults.
 */
describe('memory settings of a dedicated sending worker (issue 3)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-worker-memory-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cachePragma(roles: Array<'api' | 'worker'>, configured = 0): Promise<number> {
    const config = defaultConfig();
    config.database.url = `sqlite:${join(dir, `${roles.join('-')}-${configured}.db`)}`;
    config.database.sqliteCacheMb = configured;
    config.worker.heapGrowingPercent = 0; // this test process keeps V8's own heap growth
    const app = await createApp(config, roles, { log: pino({ level: 'silent' }), masterKey: Buffer.alloc(32, 3), startLoops: false, listen: false });
    try {
      return app.deps.store.sqlite!.pragma('cache_size', { simple: true }) as number;
    } finally {
      await app.stop();
    }
  }

  it('a worker-only process caches 4 MB of SQLite pages, one with the api role 16 MB, and database.sqliteCacheMb overrides both', async () => {
    expect(await cachePragma(['worker'])).toBe(-4096);
    expect(await cachePragma(['api', 'worker'])).toBe(-16384);
    expect(await cachePragma(['worker'], 64)).toBe(-65536);
    expect(sqliteCacheMb({ database: { url: 'postgres://x', poolSize: 1, sqliteCacheMb: 0 } }, true)).toBe(4);
  });

  it("a dedicated worker's main thread renders when its render threads are busy (auto); one that serves HTTP does not; on/off override", () => {
    const config = defaultConfig();
    expect(config.worker.mainThreadRenders).toBe('auto');
    expect(mainThreadRenders(config, true)).toBe(true);
    expect(mainThreadRenders(config, false)).toBe(false);
    config.worker.mainThreadRenders = 'off';
    expect(mainThreadRenders(config, true)).toBe(false);
    config.worker.mainThreadRenders = 'on';
    expect(mainThreadRenders(config, false)).toBe(true);
  });

  it('worker.heapGrowingPercent bounds the main heap of a process whose garbage is promoted (run-time V8 flag)', () => {
    // The same churn twice in fresh processes: objects live long enough to be promoted, then die
    // in the old generation, as a worker's batches do. With V8's own growth factor the heap
    // swings to several times the live size; with 20 % it stays near it.
    const root = fileURLToPath(new URL('..', import.meta.url));
    const file = join(dir, 'churn.mts');
    writeFileSync(file, `
      import { applyWorkerHeapGrowth } from '${root}src/app/worker-memory.ts';
      applyWorkerHeapGrowth(Number(process.argv[2]));
      const ring = new Array(20000).fill(null);
      let peak = 0;
      for (let i = 0; i < 300000; i++) {
        ring[i % ring.length] = { id: i, body: 'x'.repeat(64) + i, parts: Array.from({ length: 20 }, (_, k) => ({ k, v: String(i * k) })) };
        if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapTotal);
      }
      console.log(JSON.stringify({ peakMb: peak / 1048576 }));
    `);
    const run = (percent: number) => nodeJson<{ peakMb: number }>(['--import', 'tsx', file, String(percent)]).peakMb;
    const v8Default = run(0);
    const bounded = run(20);
    expect(bounded).toBeLessThan(v8Default * 0.75);
  }, 60_000);

  it("a worker's node flags bring V8's first full collection forward: the old space stays near its live size from start-up on", () => {
    // A starting worker promotes garbage from its first instruction (planner pages, the first
    // batches, the render bundle): with V8's initial limit the old space grew to ~44 MB before
    // the first full collection (bench/send, issue 3's peak RSS). The same churn in two fresh
    // processes, with the worker's flags and with them minus the two that size the old space.
    const file = join(dir, 'first-collection.mjs');
    writeFileSync(file, `
      import { getHeapSpaceStatistics } from 'node:v8';
      const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size / 1048576;
      const ring = new Array(3000).fill(null);
      let peak = 0, i = 0;
      const step = () => {
        for (let j = 0; j < 2000; j++, i++) ring[i % ring.length] = { id: i, body: 'x'.repeat(64) + i, parts: Array.from({ length: 20 }, (_, k) => ({ k, v: String(i * k) })) };
        peak = Math.max(peak, old());
        if (i < 60000) setImmediate(step); else console.log(JSON.stringify({ peak }));
      };
      step();
    `);
    const run = (flags: readonly string[]) => nodeJson<{ peak: number }>([...flags, file]).peak;
    const sizing = ['--initial-old-space-size=16', '--heap-growing-percent=20'];
    expect(WORKER_NODE_FLAGS).toEqual(expect.arrayContaining(sizing));
    const withFlags = run(WORKER_NODE_FLAGS);
    const without = run(WORKER_NODE_FLAGS.filter((f) => !sizing.includes(f)));
    expect(withFlags).toBeLessThan(32);
    expect(withFlags).toBeLessThan(without * 0.75);
  }, 60_000);

  it('the documented worker unit starts node with the flags a worker is measured with (docs/systemd.md, bench/send)', () => {
    const unit = readFileSync(new URL('../docs/systemd.md', import.meta.url), 'utf8');
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart=') && l.endsWith(' worker'));
    expect(exec).toBe(`ExecStart=/usr/bin/node ${WORKER_NODE_FLAGS.join(' ')} /opt/tegami/bin/tegami.js worker`);
    // …and the environment (glibc's malloc arenas): in the worker unit, before its ExecStart.
    const workerUnit = unit.slice(unit.indexOf('tegami-worker@.service'), unit.indexOf(exec!));
    for (const [k, v] of Object.entries(WORKER_ENV)) expect(workerUnit).toContain(`\nEnvironment=${k}=${v}\n`);
    // Node accepts them (an unknown or misspelt flag makes node exit with 9).
    const r = spawnSync(process.execPath, [...WORKER_NODE_FLAGS, '-e', 'process.exit(0)']);
    expect(r.status).toBe(0);
  });

  it('a serving process keeps a small young generation under churn, and the documented front unit starts node with those flags', () => {
    // A POST's short-lived garbage is collected by scavenges, whose pause grows with the young generation.
    const file = join(dir, 'serve-churn.cjs');
    writeFileSync(file, `
      const v8 = require('node:v8');
      const ring = new Array(20000).fill(null);
      const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
      let peak = 0, i = 0;
      const step = () => {
        for (let j = 0; j < 5000; j++, i++) ring[i % ring.length] = { id: i, s: 'x'.repeat(32) + i, a: [i, i + 1, i + 2] };
        peak = Math.max(peak, young());
        if (i < 400000) setImmediate(step); else console.log(JSON.stringify({ peak }));
      };
      step();
    `);
    const withFlags = nodeJson<{ peak: number }>([...SERVE_NODE_FLAGS, file]).peak;
    const without = nodeJson<{ peak: number }>([file]).peak;
    expect(withFlags).toBeLessThanOrEqual(4);
    expect(without).toBeGreaterThan(withFlags * 2);
    const unit = readFileSync(new URL('../docs/systemd.md', import.meta.url), 'utf8');
    expect(unit.split('\n').find((l) => l.startsWith('ExecStart=') && l.endsWith(' serve --roles api,smtp')))
      .toBe(`ExecStart=/usr/bin/node ${SERVE_NODE_FLAGS.join(' ')} /opt/tegami/bin/tegami.js serve --roles api,smtp`);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(SERVE_NODE_FLAGS.join(' '));
  }, 60_000);

  it('render threads default to one per core but one (the main thread keeps a core), between 1 and 4', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultRenderThreads(cores))).toEqual([1, 1, 2, 3, 4, 4]);
  });
});
