import type { Service } from '../app/services.js';
import { complianceCountersRepo } from '../store/compliance-counters-repo.js';

const TICK_MS = 5 * 60_000;
/** Hourly counters older than this are pruned (only the last 24 h and 7 days are reported). */
const KEEP_MS = 8 * 86_400_000;

/**
 * Periodic domain re-checks with drift alerts (issue 6 item 1, R-AUTH-3 "re-check daily") and
 * pruning of old hourly counters. Takes createApp's injected resolver for the whole core.
 */
export const complianceService: Service = {
  name: 'compliance',
  roles: ['worker'],
  async start(deps, core, opts) {
    if (opts.resolver) core.compliance.useResolver(opts.resolver);
    const every = deps.config.compliance.recheckMinutes * 60_000;
    const tick = async () => {
      const n = every > 0 ? await core.compliance.recheckDue(every) : 0;
      await complianceCountersRepo(deps.store).prune(deps.clock.now() - KEEP_MS);
      return n;
    };
    let timer: NodeJS.Timeout | null = null;
    let running: Promise<unknown> | null = null;
    if (opts.startLoops !== false) {
      timer = setInterval(() => {
        if (running) return;
        running = tick().catch((err) => deps.log.error({ err }, 'compliance re-check failed')).finally(() => { running = null; });
      }, Math.min(TICK_MS, Math.max(every, 60_000)));
      timer.unref();
    }
    return {
      async stop() {
        if (timer) clearInterval(timer);
        await running;
      },
      info: { tick },
    };
  },
};
