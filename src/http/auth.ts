import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasScope, type Principal, type Scope } from '../core/accounts.js';
import type { Core } from '../core/index.js';
import { fail } from '../domain/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Scope a route needs; absent on public routes. */
    scope?: Scope;
    /** Public routes (unsubscribe pages, health) take no credentials at all (R-UNSUB-6). */
    public?: boolean;
  }
}

/** Extra ways to authenticate (the console's session cookie) plug in here. */
export type Authenticator = (req: FastifyRequest) => Promise<Principal | null>;

/**
 * Bearer API-key authentication for every non-public route, and the scope check.
 * A missing, malformed or revoked key is 401; too small a scope is 403.
 */
export function registerAuth(app: FastifyInstance, core: Core, extra: Authenticator[] = []): void {
  app.decorateRequest('principal', null);
  app.addHook('preHandler', async (req) => {
    const cfg = req.routeOptions.config;
    if (cfg.public || !req.routeOptions.url) return;
    let principal: Principal | null = null;
    const h = req.headers.authorization;
    if (h && /^Bearer\s+/i.test(h)) principal = await core.accounts.authenticateKey(h.replace(/^Bearer\s+/i, '').trim());
    for (const a of extra) if (!principal) principal = await a(req);
    if (!principal) fail('E_UNAUTHENTICATED');
    if (!hasScope(principal, cfg.scope ?? 'admin')) fail('E_FORBIDDEN', `this route needs the ${cfg.scope ?? 'admin'} scope`);
    req.principal = principal;
  });
}

/** The authenticated principal of a non-public route. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) fail('E_UNAUTHENTICATED');
  return req.principal;
}
