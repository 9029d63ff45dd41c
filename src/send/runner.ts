import type { Logger } from 'pino';

/** A loop that runs `tick` until stopped; busy ticks run back to back, idle ones wait `pollMs`. */
export interface Runner {
  stop(): Promise<void>;
}

/**
 * Starts a polling loop. `tick` returns true when it did work (poll again at once). Errors are
 * logged and retried after a pause (a lost database connection is retried, not fatal).
 */
export function startLoop(name: string, tick: () => Promise<boolean>, opts: { pollMs: number; log: Logger }): Runner {
  let stopped = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(() => { wake = null; r(); }, ms);
    wake = () => { clearTimeout(t); wake = null; r(); };
  });
  const done = (async () => {
    let failures = 0;
    while (!stopped) {
      try {
        const busy = await tick();
        failures = 0;
        if (!busy && !stopped) await sleep(opts.pollMs);
      } catch (err) {
        failures++;
        opts.log.error({ err, loop: name }, 'loop tick failed; retrying');
        if (!stopped) await sleep(Math.min(30_000, opts.pollMs * 2 ** Math.min(failures, 7)));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
