import { health } from '../../app/health.js';
import type { RouteModule } from '../types.js';

/** /healthz, /metrics and the OpenAPI document. */
export const systemRoutes: RouteModule = (app, { deps, metrics }) => {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    const h = await health(deps);
    return reply.status(h.ok ? 200 : 503).send(h.body);
  });
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  // The landing page until the web console is built (issue 8): where the API and its docs are.
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tegami</title></head><body style="font-family:system-ui;max-width:40rem;margin:3rem auto">'
    + '<h1>tegami</h1><p>The HTTP API is running under <code>/v1</code> (Bearer API key). The OpenAPI document is at '
    + '<a href="/v1/openapi.json">/v1/openapi.json</a>; health at <a href="/healthz">/healthz</a>.</p>'
    + '<p>The web console is not part of this version yet; use the API or the <code>tegami</code> CLI.</p></body></html>'));
  app.get('/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
};
