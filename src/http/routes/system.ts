import { sql } from 'kysely';
import type { RouteModule } from '../types.js';

/** /healthz, /metrics and the OpenAPI document. */
export const systemRoutes: RouteModule = (app, { deps, metrics }) => {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(deps.store.db);
      return { status: 'ok', database: deps.store.dialect };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
};
