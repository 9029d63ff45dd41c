import { createServer } from 'node:http';
import type { Metrics } from '../http/metrics.js';
import type { Deps } from './deps.js';
import { health } from './health.js';

/**
 * `/metrics` (Prometheus text) and `/healthz` for a process without the api role, on
 * `worker.metricsPort`: a plain node:http server, so a `tegami worker` does not load Fastify.
 * Anything else is 404; only GET and HEAD are answered.
 */
export async function startWorkerMetrics(deps: Deps, metrics: Metrics, port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const body = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path === '/healthz') {
      const h = await health(deps);
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(h.body));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
