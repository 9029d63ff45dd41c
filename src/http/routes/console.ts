import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { fail, isTegamiError } from '../../domain/errors.js';
import { readCookie, SESSION_COOKIE } from '../auth.js';
import { CONSOLE_CSP, CONSOLE_DIST, indexFile, openStatic, resolveStatic, type StaticFile } from '../console/static.js';
import type { RouteModule } from '../types.js';

const NOT_BUILT = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tegami console</title></head>'
  + '<body style="font-family:system-ui;max-width:40rem;margin:3rem auto"><h1>The console is not built</h1>'
  + '<p><code>npm start</code> builds it before starting; otherwise run <code>npm run build:console</code>.</p></body></html>';

/**
 * The web console (issue 8): login sessions at /v1/session and the built React app at /console/
 * (an SPA: unknown paths without a file answer index.html). `/` redirects browsers to it.
 */
export const consoleRoutes: RouteModule = (app, { core, deps }) => {
  const secure = deps.config.http.publicUrl.startsWith('https:');
  const cookie = (value: string, maxAgeS: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
  const sessionView = (s: NonNullable<Awaited<ReturnType<typeof core.consoleUsers.authenticate>>>, accountName: string | null) => ({
    user: { id: s.user.id, email: s.user.email, role: s.user.role },
    account: { id: s.user.account_id, name: accountName },
    scopes: s.principal.scopes, csrf_token: s.csrf, expires_at: s.expiresAt,
  });

  app.post('/v1/session', {
    config: { public: true },
    schema: { tags: ['console'], body: Type.Object({ email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1024 }) }) },
  }, async (req, reply) => {
    try {
      const r = await core.consoleUsers.login(req.body.email, req.body.password, { ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') });
      const s = (await core.consoleUsers.authenticate(r.token))!;
      const account = await core.accounts.getAccount(r.user.account_id);
      reply.header('set-cookie', cookie(r.token, Math.floor((r.expiresAt - deps.clock.now()) / 1000)));
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(sessionView(s, account?.name ?? null));
    } catch (e) {
      if (isTegamiError(e) && e.code === 'E_RATE_LIMITED') reply.header('retry-after', String((e.details as { retry_after: number }).retry_after));
      throw e;
    }
  });
  app.get('/v1/session', { config: { scope: 'read' }, schema: { tags: ['console'] } }, async (req, reply) => {
    const s = req.consoleSession;
    if (!s) fail('E_UNAUTHENTICATED', 'no console session (API keys have none)');
    reply.header('cache-control', 'no-store');
    return sessionView(s, (await core.accounts.getAccount(s.user.account_id))?.name ?? null);
  });
  app.post('/v1/session/password', {
    config: { scope: 'read' },
    schema: { tags: ['console'], body: Type.Object({ current: Type.String({ maxLength: 1024 }), password: Type.String({ maxLength: 1024 }) }) },
  }, async (req, reply) => {
    const s = req.consoleSession;
    if (!s) fail('E_UNAUTHENTICATED', 'no console session (API keys have none)');
    await core.consoleUsers.changeOwnPassword(s.user.id, req.body.current, req.body.password, { ip: req.ip });
    return reply.header('set-cookie', cookie('', 0)).status(204).send();
  });
  // Public so an expired session can still clear its cookie; a live one needs its CSRF token.
  app.delete('/v1/session', { config: { public: true }, schema: { tags: ['console'] } }, async (req, reply) => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token) {
      const s = await core.consoleUsers.authenticate(token);
      const presented = req.headers['x-csrf-token'];
      if (s && !core.consoleUsers.csrfMatches(s, typeof presented === 'string' ? presented : undefined)) fail('E_CSRF');
      await core.consoleUsers.logout(token);
    }
    return reply.header('set-cookie', cookie('', 0)).status(204).send();
  });

  const send = (reply: FastifyReply, f: StaticFile, status = 200) => {
    reply.header('content-type', f.type).header('content-length', String(f.size)).header('x-content-type-options', 'nosniff')
      .header('cache-control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (f.type.startsWith('text/html')) reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'same-origin');
    return reply.status(status).send(openStatic(f));
  };
  const spa = async (rest: string, reply: FastifyReply) => {
    const file = rest ? resolveStatic(CONSOLE_DIST, rest) : null;
    if (file) return send(reply, file);
    // A missing asset is a 404; any other path is a client-side route of the SPA.
    if (rest.startsWith('assets/')) fail('E_NOT_FOUND', 'no such console file');
    const index = indexFile(CONSOLE_DIST);
    if (!index) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return send(reply, index);
  };
  app.get('/console', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/'));
  app.get('/console/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => spa('', reply));
  app.get('/console/*', { config: { public: true }, schema: { hide: true } }, async (req, reply) => spa((req.params as { '*': string })['*'], reply));
  // The landing page at / predates the console: browsers asking for HTML go to the console instead.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' && (req.url === '/' || req.url.startsWith('/?')) && /text\/html/.test(String(req.headers.accept ?? ''))) {
      return reply.redirect('/console/');
    }
  });
};
