import type { FastifyReply, FastifyRequest } from 'fastify';
import { unsubscribeCore } from '../../core/unsubscribe.js';
import { pageLang } from '../pages/html.js';
import { confirmPage, donePage, notFoundPage, preferencesPage, resubscribedPage } from '../pages/unsubscribe-pages.js';
import type { RouteModule } from '../types.js';

type Req = FastifyRequest<{ Params: { token: string } }>;

/** Headers of every answer: no caching, CORS open, and never a cookie or a Location (R-UNSUB-5/6). */
function base(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*').header('x-robots-tag', 'noindex');
}

const ctxOf = (req: FastifyRequest) => ({ ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 500) });

/**
 * The public one-click endpoint `/u/TOKEN` exactly as COMPLIANCE.md B.1: POST (any content
 * type, any or no body) suppresses and answers 200 after the commit; GET/HEAD only show pages;
 * no auth, no CSRF, no cookies, no redirects (trailing slash included); invalid tokens are 404.
 */
export const unsubscribeRoutes: RouteModule = async (app, { core, deps, metrics }) => {
  const unsub = unsubscribeCore(deps, core.suppressions);
  const action = (req: Req) => `/u/${encodeURIComponent(req.params.token)}`;
  const html = (reply: FastifyReply, status: number, body: string) => base(reply).status(status).type('text/html; charset=utf-8').send(body);
  const missing = (req: FastifyRequest, reply: FastifyReply) => html(reply, 404, notFoundPage(pageLang(req.headers['accept-language'])));

  await app.register(async (scope) => {
    // Receivers POST `List-Unsubscribe=One-Click` urlencoded or multipart, some with no body or
    // an odd type (R-UNSUB-4): accept anything small, read it raw, ignore it for one-click.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    const pub = { config: { public: true }, schema: { hide: true } } as const;

    for (const path of ['/u/:token', '/u/:token/']) {
      scope.post<{ Params: { token: string } }>(path, pub, async (req, reply) => {
        const wantsPage = String(req.headers.accept ?? '').includes('text/html');
        const t = await unsub.unsubscribe(req.params.token, { ...ctxOf(req), names: wantsPage });
        if (!t) return base(reply).status(404).type('text/plain; charset=utf-8').send('Not found\n');
        metrics.unsubscribes.inc({ via: 'one-click' });
        // Browsers submitting the confirmation form get a page; mail clients get a short text.
        if (wantsPage) return html(reply, 200, donePage(pageLang(req.headers['accept-language']), t, action(req)));
        return base(reply).status(200).type('text/plain; charset=utf-8').send('Unsubscribed\n');
      });
      scope.get<{ Params: { token: string } }>(path, pub, async (req, reply) => {
        const t = await unsub.resolve(req.params.token);
        if (!t) return missing(req, reply);
        return html(reply, 200, confirmPage(pageLang(req.headers['accept-language']), t, action(req)));
      });
      scope.options(path, pub, async (_req, reply) => base(reply).header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type').status(204).send());
    }
    scope.post<{ Params: { token: string } }>('/u/:token/resubscribe', pub, async (req, reply) => {
      const t = await unsub.resubscribe(req.params.token, ctxOf(req));
      if (!t) return missing(req, reply);
      return html(reply, 200, resubscribedPage(pageLang(req.headers['accept-language']), t, action(req)));
    });
    scope.get<{ Params: { token: string } }>('/u/:token/preferences', pub, async (req, reply) => {
      const p = await unsub.preferences(req.params.token);
      if (!p) return missing(req, reply);
      return html(reply, 200, preferencesPage(pageLang(req.headers['accept-language']), p, action(req)));
    });
    scope.post<{ Params: { token: string } }>('/u/:token/preferences', pub, async (req, reply) => {
      const form = new URLSearchParams(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
      const p = await unsub.savePreferences(req.params.token, new Set(form.getAll('list')), form.get('all') === 'stop', ctxOf(req));
      if (!p) return missing(req, reply);
      return html(reply, 200, preferencesPage(pageLang(req.headers['accept-language']), p, action(req), true));
    });
  });
};
