import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config/schema.js';

/**
 * Memory settings of a dedicated sending worker (a process with the worker role and without the
 * api role), issue 3: peak RSS of the sending process. Both only trade a little CPU for resident
 * memory, so a process that also answers HTTP (one-click POSTs, p99) keeps the defaults.
 */

/** SQLite page cache per connection: `database.sqliteCacheMb`, or 4 MB / 16 MB when it is 0 (auto). */
export function sqliteCacheMb(config: Pick<Config, 'database'>, dedicatedWorker: boolean): number {
  if (config.database.sqliteCacheMb > 0) return config.database.sqliteCacheMb;
  return dedicatedWorker ? 4 : 16;
}

/**
 * `worker.mainThreadRenders`: whether the main thread renders copies too when the render threads
 * are busy (render-pool.ts). `auto` = only a dedicated worker's, whose main thread otherwise idles
 * while its render thread is the bottleneck; a process that answers HTTP keeps its main thread
 * for the one-click endpoint.
 */
export function mainThreadRenders(config: Pick<Config, 'worker'>, dedicatedWorker: boolean): boolean {
  const v = config.worker.mainThreadRenders;
  return v === 'on' || (v === 'auto' && dedicatedWorker);
}

let applied: number | null = null;

/**
 * `worker.heapGrowingPercent`: V8 lets the old generation grow to its live size times a factor
 * it picks from its own speed (up to 4x); a sending worker's main thread keeps ~25 MB live and
 * produces garbage steadily (rows, SQL, SMTP replies), so by default its heap swings between 30
 * and 100 MB (bench/send). A fixed small factor keeps it near the live size for a few more full
 * collections. V8 reads this flag each time it sets the next limit, so it takes effect at run
 * time, for every isolate of the process (render threads included). 0 = V8's own choice (also
 * over the unit's `--heap-growing-percent`, WORKER_NODE_FLAGS).
 */
export function applyWorkerHeapGrowth(percent: number): void {
  const p = percent > 0 ? Math.floor(percent) : 0;
  if (applied === p) return;
  setFlagsFromString(`--heap-growing-percent=${p}`);
  applied = p;
}

/**
 * Node flags a dedicated worker is started with (docs/systemd.md, bench/send). They size the
 * main isolate and the process, so they cannot be set at run time:
 * - `--max-semi-space-size=2`: the main thread's young generation is 2 x 2 MB instead of growing
 *   to 2 x 16 MB; a worker's short-lived garbage (rows, SQL text, SMTP replies) dies young either way.
 * - `--v8-pool-size=1`: one V8 helper thread (concurrent marking, sweeping, compilation) instead of
 *   four, each of which keeps a malloc arena of its own; the render threads already use the other cores.
 * - `--initial-old-space-size=16` and `--heap-growing-percent=20`: V8's first full collection
 *   otherwise waits until the old generation reaches its initial limit, and a starting worker
 *   promotes garbage fast (planner pages, the first batches, the render bundle loading in two
 *   isolates): bench/send's main old space went 16 -> 44 MB in its first 0.8 s and set the run's
 *   peak (145 MB at 100,000; 131-138 MB after). With both flags the first full collection comes
 *   at ~16 MB, during start-up, and every limit from then on is the live size + 20 %, before the
 *   configuration is read (`worker.heapGrowingPercent` then applies at run time, above). Alone,
 *   the initial size does not do it: the first collection then comes before the configured
 *   growth applies, and V8's own factor lets the heap grow to ~41 MB anyway.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=1', '--initial-old-space-size=16', '--heap-growing-percent=20'] as const;

/**
 * Environment a dedicated worker is started with (docs/systemd.md, bench/send), read by glibc at
 * process start: `MALLOC_ARENA_MAX=2`. glibc gives each thread that allocates an arena of its own
 * (up to 8 per core): the main thread, the render thread, V8's helper, libuv's pool threads; each
 * keeps the memory it freed. Two arenas: bench/send 100,000 peaked at 136 MB instead of 141 at the
 * same msgs/s (one arena: 137 MB and ~10 % slower, the threads then wait on one lock).
 */
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/**
 * Node flags a process that answers HTTP (`tegami serve`, `npm start`) is started with
 * (docs/systemd.md). `--max-semi-space-size=2`: a young generation of 2 x 2 MB instead of V8's
 * growth to 2 x 16 MB. A one-click POST leaves ~19 KB of short-lived garbage; with the large
 * young generation bench/unsubscribe's fixed-rate run (1,000 POSTs/s) saw ~20 scavenges of up to
 * 16-24 ms each, which a POST arriving meanwhile waits out (the p99 target is 10 ms); with 2 MB,
 * ~165 scavenges of at most 3-8 ms, and no lower throughput (bench/README.md, session 8).
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=2'] as const;
