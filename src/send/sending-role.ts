import type { Deps } from '../app/deps.js';
import type { SendCollaborators } from '../core/send-collaborators.js';
import type { Transport } from '../transport/types.js';
import { createMessageBuilder } from './message-builder.js';
import { createPlanner } from './planner.js';
import { startClockCheck } from './clock-check.js';
import { ownerName } from './process-identity.js';
import { takeOverDeadLocalLeases } from './takeover.js';
import { startLoop, type Runner } from './runner.js';
import { createWorker, type Worker } from './worker.js';
import type { Metrics } from '../http/metrics.js';


/** The worker role: the campaign planner loop and the sending loop of one process. */
export interface SendingRole {
  owner: string;
  worker: Worker;
  planner: ReturnType<typeof createPlanner>;
  /** Runs planner + worker until nothing is due (tests and the CLI `send --drain`). */
  drain(maxTicks?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the planner and worker; `start` also runs their loops in the background. */
export function createSendingRole(deps: Deps, collab: SendCollaborators, transport: Transport, opts: { start?: boolean; metrics?: Metrics; mainHelps?: boolean } = {}): SendingRole {
  const owner = ownerName();
  const builder = createMessageBuilder(deps, collab, { mainHelps: opts.mainHelps });
  const m = opts.metrics;
  const worker = createWorker(deps, collab, builder, transport, owner, m ? (records) => {
    m.batches.inc();
    const by = new Map<string, number>();
    for (const r of records) by.set(r.status, (by.get(r.status) ?? 0) + 1);
    for (const [status, n] of by) m.messages.inc({ status }, n);
  } : undefined);
  let stopping = false;
  const planner = createPlanner(deps, collab, owner, () => stopping);
  const runners: Runner[] = [];
  m?.setLoopSource(() => runners.map((r) => ({ loop: r.name, failures: r.failures })));
  const log = deps.log.child({ component: 'send', owner });
  let clockCheck: ReturnType<typeof startClockCheck> | null = null;
  if (opts.start !== false) {
    clockCheck = startClockCheck({ store: deps.store, clock: deps.clock, leaseMs: deps.config.worker.leaseSeconds * 1000, log });
    m?.setClockSkewSource(clockCheck.last);
    // A predecessor on this machine that died (kill -9, OOM, crash) leaves leases no one renews: end them now.
    void takeOverDeadLocalLeases(deps.store, deps.clock, log).catch((err) => log.warn({ err }, 'could not look for leases of processes that are gone'));
    const pollMs = deps.config.worker.pollMs;
    runners.push(startLoop('planner', async () => {
      const did = await planner.tick();
      return (await planner.finishCampaigns()) || did;
    }, { pollMs, log }));
    // Lanes: the same tick run as independent loops, so one batch's claim and bookkeeping overlap
    // another's transmission (config worker.lanes). Each claims its own rows under the lease.
    for (let lane = 1; lane <= deps.config.worker.lanes; lane++) {
      const name = lane === 1 ? 'worker' : `worker-${lane}`;
      runners.push(startLoop(name, async () => (await worker.tick()) > 0, { pollMs, log }));
    }
  }
  return {
    owner, worker, planner,
    async drain(maxTicks = 100_000) {
      for (let i = 0; i < maxTicks; i++) {
        const planned = await planner.tick();
        const sent = await worker.tick();
        const requeued = await planner.finishCampaigns();
        if (!planned && !sent && !requeued) return;
      }
    },
    async stop() {
      stopping = true;
      worker.beginStop();
      clockCheck?.stop();
      // Finish the transmissions in flight (the batches give their other rows back), then give back any lease still held (SIGTERM).
      await Promise.all(runners.map((r) => r.stop()));
      try {
        const released = await releaseWithRetry(() => worker.release(), log);
        if (released) log.info({ released }, 'released leases');
      } finally {
        await transport.close();
        await builder.close();
      }
    },
  };
}

/**
 * Gives leases back, retrying for a few seconds when the database is briefly unreachable (a
 * SIGTERM during an outage). If it still fails the leases simply expire after
 * `worker.leaseSeconds` and another worker re-claims them; nothing is lost either way.
 */
async function releaseWithRetry(release: () => Promise<number>, log: { warn: (o: object, m: string) => void }, attempts = 5): Promise<number> {
  for (let i = 1; ; i++) {
    try {
      return await release();
    } catch (err) {
      if (i >= attempts) {
        log.warn({ err }, 'could not release leases; they will expire and be re-claimed');
        return 0;
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** i));
    }
  }
}
