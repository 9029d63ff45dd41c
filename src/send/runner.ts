import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';

/** A loop that runs `tick` until stopped; busy ticks run back to back, idle ones wait `pollMs`. */
export interface Runner {
  /** The loop's name (logs, the tegami_worker_loop_failures metric). */
  readonly name: string;
  stop(): Promise<void>;
  /** Consecutive failed ticks (0 while healthy); a database outage shows here. */
  readonly failures: number;
}

/** Options of {@link startLoop}. */
export interface LoopOptions {
  pollMs: number;
  log: Logger;
  /** Longest pause between retries after failures (default 10 s). */
  maxBackoffMs?: number;
}

/**
 * Delay before retry number `failures` (1, 2, …): pollMs·2^n capped at `maxMs`, with ±20 %
 * jitter so N workers that lost the same database do not reconnect in lock step.
 */
export function backoffMs(failures: number, pollMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, pollMs * 2 ** Math.min(failures, 16));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Starts a polling loop. `tick` returns true when it did work (poll again at once). A failing
 * tick (a lost database connection, a restart of PostgreSQL) is never fatal: the loop logs the
 * outage once, retries with capped exponential back-off and logs when it works again. `stop`
 * lets the tick in flight finish (SIGTERM finishes in-flight work) and ends the loop.
 */
export function startLoop(name: string, tick: () => Promise<boolean>, opts: LoopOptions): Runner {
  const maxMs = opts.maxBackoffMs ?? 10_000;
  let stopped = false;
  let failures = 0;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(() => { wake = null; r(); }, ms);
    wake = () => { clearTimeout(t); wake = null; r(); };
  });
  const done = (async () => {
    let failingSince = 0;
    while (!stopped) {
      try {
        const busy = await tick();
        if (failures) opts.log.warn({ loop: name, failures, outage_ms: Date.now() - failingSince }, 'loop recovered');
        failures = 0;
        if (busy) {
          // Back to the event loop between busy ticks: on SQLite a tick that transmits nothing (a
          // batch of suppressed or paused rows, the capture transport without render threads)
          // resolves without I/O, and back-to-back ticks would hold the process's HTTP server,
          // timers and other loops for as long as such work lasts.
          await nextTurn();
        } else if (!stopped) await sleep(opts.pollMs);
      } catch (err) {
        if (!failures) failingSince = Date.now();
        failures++;
        const delay = backoffMs(failures, opts.pollMs, maxMs);
        // Every failure at first, then one line per ten, so an outage does not flood the log.
        if (failures <= 3 || failures % 10 === 0) opts.log.error({ err, loop: name, failures, retry_in_ms: delay }, 'loop tick failed; retrying');
        if (!stopped) await sleep(delay);
      }
    }
  })();
  return {
    name,
    get failures() { return failures; },
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
