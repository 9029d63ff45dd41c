import client, { Counter, Gauge } from 'prom-client';

/** One Prometheus registry per app instance (tests build many apps in one process). */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'tegami_http_requests_total', help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const messages = new Counter({
    name: 'tegami_messages_total', help: 'Send attempts recorded by this process, by outcome (sent, deferred, bounced, failed, skipped, held, paused, released)',
    labelNames: ['status'], registers: [registry],
  });
  const batches = new Counter({
    name: 'tegami_worker_batches_total', help: 'Batches this process claimed and recorded', registers: [registry],
  });
  // Read from the running loops at scrape time (setLoopSource), never stale.
  let loopSource: () => Array<{ loop: string; failures: number }> = () => [];
  new Gauge({
    name: 'tegami_worker_loop_failures', help: 'Consecutive failed ticks of a sending or planning loop (0 while healthy; a database outage shows here)',
    labelNames: ['loop'], registers: [registry],
    collect() {
      this.reset();
      for (const l of loopSource()) this.set({ loop: l.loop }, l.failures);
    },
  });
  const setLoopSource = (fn: typeof loopSource) => { loopSource = fn; };
  let skewSource: () => number | null = () => null;
  new Gauge({
    name: 'tegami_clock_skew_seconds', help: "How far this worker's clock is ahead of the PostgreSQL server's (negative: behind); checked every 10 minutes",
    // Labelled so that no sample is exported where there is nothing to compare (SQLite).
    labelNames: ['reference'], registers: [registry],
    collect() {
      this.reset();
      const ms = skewSource();
      if (ms !== null) this.set({ reference: 'database' }, ms / 1000);
    },
  });
  const setClockSkewSource = (fn: typeof skewSource) => { skewSource = fn; };
  const unsubscribes = new Counter({
    name: 'tegami_unsubscribes_total', help: 'One-click and page unsubscribes', labelNames: ['via'], registers: [registry],
  });
  return { registry, httpRequests, messages, batches, setLoopSource, setClockSkewSource, unsubscribes };
}

/** The metrics of one app. */
export type Metrics = ReturnType<typeof createMetrics>;
