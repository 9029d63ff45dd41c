import client from 'prom-client';

/** One Prometheus registry per app instance (tests build many apps in one process). */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpRequests = new client.Counter({
    name: 'tegami_http_requests_total', help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const messages = new client.Counter({
    name: 'tegami_messages_total', help: 'Message outcomes by status', labelNames: ['status'], registers: [registry],
  });
  return { registry, httpRequests, messages };
}

/** The metrics of one app. */
export type Metrics = ReturnType<typeof createMetrics>;
