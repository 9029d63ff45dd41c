import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Db } from '../store/db.js';
import { renewLeases } from '../store/leases.js';

/** Keeps one claimed batch's lease while it transmits; see {@link keepLease}. */
export interface LeaseKeeper {
  /**
   * Whether this row's transmission may start: the batch still holds its lease, with at least
   * half of it left. While renewals fail, waits for one to succeed until the lease runs out; a
   * row that another worker took over, or whose lease ran out, is not transmitted by this one.
   */
  mayStart(id: number): Promise<boolean>;
  /** Rows whose lease this batch no longer holds. */
  readonly lost: ReadonlySet<number>;
  /** A row whose outcome is written (its lease ended with it): no longer renewed. */
  done(id: number): void;
  /** Ends the renewals (the batch's outcome is recorded, or the tick gave up). */
  stop(): void;
}

/** Options of {@link keepLease}. */
export interface LeaseKeeperOptions {
  ids: number[];
  /** The lease end the claim wrote. */
  until: number;
  leaseMs: number;
  clock: Clock;
  log: Pick<Logger, 'warn'>;
  /** Moves the lease of those of `ids` this batch still holds to `until`; returns their ids. */
  renew: (ids: number[], until: number) => Promise<number[]>;
}

/**
 * A claimed batch's lease, renewed every quarter lease while the batch is in flight (issue 11:
 * one message per recipient; the webhook deliverer keeps its batches the same way). A batch may
 * outlast its lease: the transport allows 60 s per SMTP step, and a tarpitting or greylisting
 * receiver spends them, so 200 messages at concurrency 20 can take longer than the 120 s lease. Without renewal the rows still waiting in the batch's
 * pool became claimable by another lane or worker and went out twice.
 *
 * Each claim has its own lease token (worker.ts), so a renewal fences: a row another claim took
 * over after its lease really ran out (the database away for most of a lease) is not renewed, is
 * reported lost and is not transmitted here. A renewal that fails leaves the lease as it was;
 * transmissions stop starting once less than half the lease is known to be left, and resume if
 * a renewal gets through in time.
 */
export function keepLease(o: LeaseKeeperOptions): LeaseKeeper {
  const every = o.leaseMs / 4;
  let validUntil = o.until;
  const held = new Set(o.ids);
  const lost = new Set<number>();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;

  /** One renewal; false when the database could not be reached. */
  async function renewOnce(): Promise<boolean> {
    const until = o.clock.now() + o.leaseMs;
    if (!held.size) return true;
    try {
      const kept = new Set(await o.renew([...held], until));
      // Rows marked done meanwhile have left `held`: their lease ended with their outcome.
      const gone = [...held].filter((id) => !kept.has(id));
      if (gone.length) {
        for (const id of gone) {
          lost.add(id);
          held.delete(id);
        }
        o.log.warn({ lost: gone.length }, 'lease lost to another claim; those rows are not sent here');
      }
      validUntil = until;
      return true;
    } catch (err) {
      o.log.warn({ err, leaseLeftMs: validUntil - o.clock.now() }, 'lease renewal failed; retrying');
      return false;
    }
  }
  const renew = (): Promise<void> => {
    if (!inFlight) {
      if (timer) clearTimeout(timer);
      inFlight = renewOnce().then((ok) => {
        inFlight = null;
        // After a failure, retry sooner: the lease is running down.
        schedule(ok ? every : Math.min(every, 1000));
      });
    }
    return inFlight;
  };
  function schedule(ms: number) {
    if (stopped) return;
    timer = setTimeout(() => void renew(), ms);
    timer.unref();
  }
  schedule(every);
  const safe = () => o.clock.now() < validUntil - o.leaseMs / 2;

  return {
    lost,
    done(id) {
      held.delete(id);
    },
    async mayStart(id) {
      while (!lost.has(id) && !safe()) {
        if (stopped || o.clock.now() >= validUntil) return false;
        await renew();
        if (!safe() && !lost.has(id)) await new Promise((r) => setTimeout(r, Math.min(every, 1000)));
      }
      return !lost.has(id);
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * Runs `work` on a batch just claimed under `token` in `table` (lease until `claimedAt + leaseMs`),
 * keeping the batch's lease while it runs: the sending worker's and the webhook deliverer's claims.
 */
export async function withKeptLease<T>(
  o: { store: Db; table: 'messages' | 'webhook_deliveries'; token: string; ids: number[]; claimedAt: number; leaseMs: number; clock: Clock; log: Pick<Logger, 'warn'> },
  work: (keeper: LeaseKeeper) => Promise<T>,
): Promise<T> {
  const keeper = keepLease({
    ids: o.ids, until: o.claimedAt + o.leaseMs, leaseMs: o.leaseMs, clock: o.clock, log: o.log,
    renew: (ids, until) => renewLeases(o.store, o.table, o.token, ids, until),
  });
  try {
    return await work(keeper);
  } finally {
    keeper.stop();
  }
}
