import client, { Counter } from 'prom-client';

/** One Prometheus registry per app instance (tests build many apps in one process). */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'tegami_http_requests_total', help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const messages = new Counter({
    name: 'tegami_messages_total', help: 'Message outcomes by status', labelNames: ['status'], registers: [registry],
  });
  const unsubscribes = new Counter({
    name: 'tegami_unsubscribes_total', help: 'One-click and page unsubscribes', labelNames: ['via'], registers: [registry],
  });
  return { registry, httpRequests, messages, unsubscribes };
}

/** The metrics of one app. */
export type Metrics = ReturnType<typeof createMetrics>;
