import { sql } from 'kysely';
import type { Clock } from '../domain/clock.js';
import type { Db } from '../store/db.js';

/**
 * How far this process's clock is ahead of the PostgreSQL server's, in ms (negative: behind),
 * taken at the middle of the query's round trip; null on SQLite (one machine, one clock).
 */
export async function clockSkewMs(store: Db, clock: Clock): Promise<number | null> {
  if (store.dialect !== 'postgres') return null;
  const t0 = clock.now();
  const { rows } = await sql<{ ms: number }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(store.db);
  const t1 = clock.now();
  return Math.round((t0 + t1) / 2 - Number(rows[0].ms));
}

/** Where the check reports (a pino logger). */
export interface SkewLog {
  warn(o: { skew_ms: number }, msg: string): void;
  error(o: { skew_ms: number; lease_ms: number }, msg: string): void;
}

/** Above this, a worker's clock is reported as off (NTP keeps machines within milliseconds). */
export const SKEW_WARN_MS = 2000;

/**
 * The clock check of a sending process on PostgreSQL (issue 11: workers on many machines).
 * Leases, schedules, retry times and the hourly and rolling counters are written with each
 * worker machine's own clock and compared with another's: a machine whose clock runs ahead by
 * more than three quarters of the lease sees live workers' leases as expired and sends their
 * batches a second time. Checked at start and every `everyMs` against the database server's
 * clock (the one clock every worker shares): a warning above {@link SKEW_WARN_MS}, an error
 * above a quarter of the lease, and the last figure for the `tegami_clock_skew_seconds` gauge.
 */
export function startClockCheck(o: { store: Db; clock: Clock; leaseMs: number; log: SkewLog; everyMs?: number }) {
  let last: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  async function check(): Promise<number | null> {
    try {
      last = await clockSkewMs(o.store, o.clock);
    } catch {
      return last; // the database is away: the loops report that
    }
    if (last !== null && Math.abs(last) > o.leaseMs / 4) {
      o.log.error({ skew_ms: last, lease_ms: o.leaseMs }, "this machine's clock differs from the database server's by more than a quarter of the lease; leases of live workers may be taken over (run NTP)");
    } else if (last !== null && Math.abs(last) > SKEW_WARN_MS) {
      o.log.warn({ skew_ms: last }, "this machine's clock differs from the database server's (run NTP)");
    }
    return last;
  }
  const first = check().then((v) => {
    if (!stopped && o.store.dialect === 'postgres') {
      timer = setInterval(() => void check(), o.everyMs ?? 600_000);
      timer.unref();
    }
    return v;
  });
  return {
    /** The first check's result (tests). */
    first,
    /** The last measured skew in ms, or null (SQLite, or not measured yet). */
    last: () => last,
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}
