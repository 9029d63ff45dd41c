import type { Deps } from '../app/deps.js';
import { ownerName } from '../send/process-identity.js';
import { createDeliverer } from './deliver.js';
import { createFanout } from './fanout.js';
import { webhooksRepo } from '../store/webhooks-repo.js';
import { systemLookup, type LookupAll } from './url-guard.js';

/** The webhook dispatcher of one process: outbox fan-out, then leased delivery. */
export function createDispatcher(deps: Deps, opts: { lookup?: LookupAll; owner?: string } = {}) {
  const owner = opts.owner ?? ownerName();
  const fanout = createFanout(deps);
  const deliverer = createDeliverer(deps, { owner, lookup: opts.lookup ?? systemLookup });
  const repo = webhooksRepo(deps.store);
  let lastPurge = -Infinity;
  /** The delivery log's retention (webhooks.logRetentionDays), checked at most hourly. */
  async function purge(): Promise<number> {
    const days = deps.config.webhooks.logRetentionDays;
    const now = deps.clock.now();
    if (!days || now - lastPurge < 3_600_000) return 0;
    lastPurge = now;
    let n = 0;
    for (let got = -1; got !== 0 && n < 100_000; n += got) got = await repo.purgeFinished(now - days * 86_400_000, 5000);
    return n;
  }
  const dispatcher = {
    purge,
    owner, fanout, deliverer,
    /** One round; true when it did anything (the loop polls again at once). */
    async tick(): Promise<boolean> {
      const read = await fanout.tick();
      const sent = await deliverer.tick();
      await purge();
      return read + sent > 0;
    },
    /** Runs rounds until nothing is due now (tests, and `tegami webhooks dispatch`). */
    async drain(maxRounds = 10_000): Promise<void> {
      for (let i = 0; i < maxRounds && (await dispatcher.tick()); i++);
    },
  };
  return dispatcher;
}

/** The dispatcher's type. */
export type Dispatcher = ReturnType<typeof createDispatcher>;

/** A webhook-target lookup over a mailauth-style resolver (the app's injected DNS). */
export function lookupFromResolver(resolver: (name: string, rrtype: string) => Promise<unknown[]>): LookupAll {
  return async (host) => {
    const out: Array<{ address: string; family: number }> = [];
    for (const [rr, family] of [['A', 4], ['AAAA', 6]] as const) {
      try {
        for (const a of await resolver(host, rr)) out.push({ address: String(a), family });
      } catch (err) {
        if (!['ENOTFOUND', 'ENODATA'].includes((err as { code?: string }).code ?? '')) throw err;
      }
    }
    return out;
  };
}
