import type { FastifyReply, FastifyRequest } from 'fastify';
import { unsubscribeCore } from '../../core/unsubscribe.js';
import { pageLang } from '../pages/html.js';
import { confirmPage, donePage, notFoundPage, preferencesPage, resubscribedPage } from '../pages/unsubscribe-pages.js';
import type { RouteModule } from '../types.js';

/** type/subtype with an optional parameter list: what Fastify's content-type parsing accepts. */
const VALID_MEDIA_TYPE = /^\s*[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+\s*(;|$)/i;

type Req = FastifyRequest<{ Params: { token: string } }>;

/** Headers of every answer: no caching, CORS open, and never a cookie or a Location (R-UNSUB-5/6). */
function base(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*').header('x-robots-tag', 'noindex');
}

const userAgentOf = (req: FastifyRequest) => String(req.headers['user-agent'] ?? '').slice(0, 500);
const ctxOf = (req: FastifyRequest) => ({ ip: req.ip, userAgent: userAgentOf(req) });

/** The one-click answers' headers, built once (R-UNSUB-5/6: no Location, no cookie, CORS open). */
const TEXT = { 'cache-control': 'no-store', 'access-control-allow-origin': '*', 'x-robots-tag': 'noindex', 'content-type': 'text/plain; charset=utf-8' };

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

  const pub = { config: { public: true }, schema: { hide: true } } as const;
  // One-click POSTs log only warnings and errors: the ledger already records each one (time, IP,
  // user agent, source), /metrics counts them by status, and Fastify's two info lines a request
  // took ~45 µs of a ~75 µs POST (issue 4 bench, BENCH_LOG_LEVEL=info: 0.41 of the bare route).
  const oneClickRoute = { ...pub, logLevel: 'warn' } as const;
  const oneClicks = metrics.unsubscribes.labels({ via: 'one-click' });
  const notFound = (reply: FastifyReply) => { reply.code(404).headers(TEXT).send('Not found\n'); };
  /** Browsers submitting the confirmation form (Accept: text/html) get a page after the commit. */
  const pagePost = async (req: Req, reply: FastifyReply) => {
    const t = await unsub.unsubscribe(req.params.token, { ...ctxOf(req), names: true });
    if (!t) return notFound(reply);
    oneClicks.inc();
    return html(reply, 200, donePage(pageLang(req.headers['accept-language']), t, action(req)));
  };

  await app.register(async (scope) => {
    // One-click POST (R-UNSUB-4): receivers send `List-Unsubscribe=One-Click` urlencoded or
    // multipart, some with no body or an odd type; the body never matters, so it is not read at
    // all (any content type, any size; Node discards it once the answer is sent). Its own scope,
    // so the pages below keep their form parser.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    // A malformed Content-Type (no type/subtype, e.g. `foo`) would get Fastify's 415 before any
    // parser runs; any content type must unsubscribe (R-UNSUB-4, COMPLIANCE B.1), and the body
    // is never read, so such a header is treated as octet-stream.
    scope.addHook('onRequest', (req, _reply, done) => {
      const ct = req.headers['content-type'];
      if (ct && !VALID_MEDIA_TYPE.test(ct)) req.headers['content-type'] = 'application/octet-stream';
      done();
    });
    for (const path of ['/u/:token', '/u/:token/']) {
      // Callback style on the group commit's promise, no async layers (the hot path, issue 4
      // bench). The answer goes out only after the commit (R-UNSUB-4, R-UNSUB-9).
      scope.post<{ Params: { token: string } }>(path, oneClickRoute, (req, reply) => {
        if (String(req.headers.accept ?? '').includes('text/html')) return pagePost(req, reply);
        const done = unsub.oneClick(req.params.token, req.ip, userAgentOf(req));
        if (!done) return notFound(reply);
        done.then((t) => {
          if (!t) return notFound(reply);
          oneClicks.inc();
          reply.headers(TEXT).send('Unsubscribed\n');
        }, (err) => { reply.send(err); });
      });
    }
  });

  await app.register(async (scope) => {
    // The pages' forms (resubscribe, preferences) are small urlencoded bodies: read any small body raw.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));

    for (const path of ['/u/:token', '/u/:token/']) {
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
