import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasScope, type Principal, type Scope } from '../core/accounts.js';
import type { Core } from '../core/index.js';
import { fail } from '../domain/errors.js';
import type { ConsoleSession } from '../core/console-users.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The console session when the request was authenticated by its cookie (issue 8). */
    consoleSession: ConsoleSession | null;
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
  app.decorateRequest('consoleSession', null);
  extra = [...extra, sessionAuthenticator(core)];
  const authenticate = async (req: FastifyRequest) => {
    const cfg = req.routeOptions.config;
    let principal: Principal | null = null;
    const h = req.headers.authorization;
    if (h && /^Bearer\s+/i.test(h)) principal = await core.accounts.authenticateKey(h.replace(/^Bearer\s+/i, '').trim());
    for (const a of extra) if (!principal) principal = await a(req);
    if (!principal) fail('E_UNAUTHENTICATED');
    if (!hasScope(principal, cfg.scope ?? 'admin')) fail('E_FORBIDDEN', `this route needs the ${cfg.scope ?? 'admin'} scope`);
    req.principal = principal;
  };
  // Every route that is not public gets the check as its first onRequest hook: before its body
  // is read or validated, so an anonymous caller learns nothing of the schema (401, not 400) and
  // costs no parsing. Public routes (the one-click endpoint among them, R-UNSUB-6) do not run it
  // at all, not even to return early.
  app.addHook('onRoute', (route) => {
    if (route.config?.public) return;
    const own = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
    route.onRequest = [authenticate, ...own];
  });
}

/** The authenticated principal of a non-public route. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) fail('E_UNAUTHENTICATED');
  return req.principal;
}

/** The console's session cookie (issue 8): HttpOnly, SameSite=Strict, Secure on an https public URL. */
export const SESSION_COOKIE = 'tegami_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One cookie's value from a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try { return decodeURIComponent(part.slice(eq + 1).trim()); } catch { return null; }
    }
  }
  return null;
}

/**
 * Authenticates by the console session cookie. A state-changing request so authenticated must
 * carry the session's X-CSRF-Token header (E_CSRF otherwise); the role maps to scopes
 * (viewer read, editor write, admin admin).
 */
export function sessionAuthenticator(core: Core): Authenticator {
  return async (req) => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!token) return null;
    const s = await core.consoleUsers.authenticate(token);
    if (!s) return null;
    const presented = req.headers['x-csrf-token'];
    if (!SAFE_METHODS.has(req.method) && !core.consoleUsers.csrfMatches(s, typeof presented === 'string' ? presented : undefined)) fail('E_CSRF');
    req.consoleSession = s;
    return s.principal;
  };
}
