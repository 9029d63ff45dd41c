import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Deps } from '../app/deps.js';
import type { Core } from '../core/index.js';
import { registerAuth, type Authenticator } from './auth.js';
import { errorHandler } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ROUTES } from './routes/index.js';
import type { App } from './types.js';

/** `none` → trust no proxy; otherwise Fastify's list of addresses, CIDRs or `loopback`. */
function trustProxyOption(v: string): boolean | string[] {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  return !list.length || list.includes('none') ? false : list;
}

/** Paths whose segment after the prefix is a credential: one-click tokens (R-UNSUB-3). */
const TOKEN_PATH = /^(\/u\/)[^/?#]+/;
/**
 * What a request log line says of the request: Fastify's fields, with an unsubscribe token
 * replaced by `<token>`. Whoever can read the logs must not be able to resubscribe or read the
 * preferences of a recipient who unsubscribed (DESIGN convention 11: no secrets in logs).
 */
function requestLogValue(req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: req.url.replace(TOKEN_PATH, '$1<token>'), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** Options for buildApp. */
export interface BuildAppOptions {
  authenticators?: Authenticator[];
  /** The process's registry (shared with the worker role in one process); a new one otherwise. */
  metrics?: Metrics;
}

/**
 * Builds the HTTP app: routes per resource (schema, then one core call), Bearer auth,
 * one error mapping, OpenAPI at /v1/openapi.json, /healthz and /metrics.
 */
export async function buildApp(deps: Deps, core: Core, opts: BuildAppOptions = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }, { serializers: { req: requestLogValue } }) as FastifyBaseLogger,
    bodyLimit: deps.config.http.bodyLimitBytes,
    // Only configured proxies may name the client (a forged X-Forwarded-For must not dodge login limits).
    trustProxy: trustProxyOption(deps.config.http.trustProxy),
    // Unsubscribe tokens are long path parameters (the default limit of 100 answers 414).
    routerOptions: { maxParamLength: 500 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const metrics = opts.metrics ?? createMetrics();
  await app.register(swagger, {
    openapi: {
      info: { title: 'tegami API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error: { code: 'E_NOT_FOUND', message: 'Not found' } }));
  registerAuth(app, core, opts.authenticators);
  app.addHook('onResponse', (req, reply, done) => {
    metrics.httpRequests.inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
    done();
  });
  const ctx = { core, deps, metrics };
  for (const r of ROUTES) await r(app, ctx);
  return app;
}
