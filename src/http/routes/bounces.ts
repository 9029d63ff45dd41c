import { Type } from '@sinclair/typebox';
import { parseAddress } from '../../domain/address.js';
import { fail } from '../../domain/errors.js';
import { principalOf } from '../auth.js';
import type { RouteModule } from '../types.js';

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/**
 * The bounce and complaint log with the raw reports (issue 5 item 6), per-address history,
 * held streams and provider throttles (R-BNC-3/4), and the abuse@/postmaster@ mailbox (RFC 2142).
 */
export const bounceRoutes: RouteModule = async (app, { core, deps }) => {
  const acc = (req: Parameters<typeof principalOf>[0]) => principalOf(req).accountId;
  app.get('/v1/bounces', {
    config: { scope: 'read' },
    schema: {
      tags: ['bounces'],
      querystring: Type.Object({
        address: Type.Optional(Type.String({ maxLength: 320 })), kind: Type.Optional(Type.Union(['bounce', 'complaint', 'autoreply', 'delay', 'feedback', 'unsubscribe', 'delivery'].map((k) => Type.Literal(k)))),
        class: Type.Optional(Type.String({ maxLength: 40 })), before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
      }),
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 50;
    const items = await core.bounces.list(acc(req), { address: q.address, kind: q.kind, cls: q.class, before: q.before, limit });
    return { items, next_cursor: items.length === limit ? String(items[items.length - 1].id) : null };
  });
  app.get('/v1/bounces/:id', { config: { scope: 'read' }, schema: { tags: ['bounces'], params: Id } }, async (req) => core.bounces.get(acc(req), req.params.id));
  app.get('/v1/bounces/:id/raw', { config: { scope: 'read' }, schema: { tags: ['bounces'], params: Id } }, async (req, reply) => {
    const e = await core.bounces.get(acc(req), req.params.id);
    if (!e.raw_id) fail('E_NOT_FOUND', 'this outcome came from an SMTP reply and has no raw report');
    const r = await core.bounces.raw(acc(req), Number(e.raw_id));
    return reply.type('message/rfc822').header('content-disposition', `attachment; filename="report-${e.id}.eml"`).send(Buffer.from(r.raw));
  });
  /** Everything tegami knows about one address: the log, the soft-bounce run and the ledger. */
  app.get('/v1/addresses/:address/history', { config: { scope: 'read' }, schema: { tags: ['bounces'], params: Type.Object({ address: Type.String({ maxLength: 320 }) }) } }, async (req) => {
    const a = parseAddress(req.params.address);
    const [bounces, soft, suppression] = await Promise.all([
      core.bounces.list(acc(req), { address: a.address, limit: 500 }),
      core.bounces.softCount(acc(req), a.address),
      core.suppressions.get(acc(req), a.address).catch(() => null),
    ]);
    return { address: a.address, soft_bounces_in_a_row: soft, soft_bounce_limit: deps.config.bounces.softBounceLimit, bounces, suppression };
  });

  app.get('/v1/stream-holds', { config: { scope: 'read' }, schema: { tags: ['bounces'], querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }) } },
    async (req) => ({ items: await core.bounces.holds(acc(req), req.query.all ?? false) }));
  app.post('/v1/stream-holds/:id/release', { config: { scope: 'write' }, schema: { tags: ['bounces'], params: Id } }, async (req, reply) => {
    await core.bounces.releaseHold(acc(req), req.params.id, principalOf(req).actor);
    return reply.status(204).send();
  });

  app.get('/v1/role-mail', { config: { scope: 'read' }, schema: { tags: ['bounces'], querystring: Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }) } }, async (req) => {
    const [forwardTo, items] = await Promise.all([core.bounces.roleForwardTo(acc(req)), core.bounces.roleMail(acc(req), req.query.before, req.query.limit ?? 50)]);
    return { forward_to: forwardTo, items };
  });
  app.get('/v1/role-mail/:id/raw', { config: { scope: 'read' }, schema: { tags: ['bounces'], params: Id } }, async (req, reply) => {
    const raw = await core.bounces.roleMailRaw(acc(req), req.params.id);
    return reply.type('message/rfc822').header('content-disposition', `attachment; filename="role-${req.params.id}.eml"`).send(Buffer.from(raw));
  });
  app.put('/v1/role-mail/settings', {
    config: { scope: 'admin' }, schema: { tags: ['bounces'], body: Type.Object({ forward_to: Type.Union([Type.String({ maxLength: 320 }), Type.Null()]) }) },
  }, async (req) => {
    const to = req.body.forward_to === null ? null : parseAddress(req.body.forward_to, 'forward_to').address;
    await core.bounces.setRoleForwardTo(acc(req), to);
    return { forward_to: to };
  });

  // Smarthost providers' webhooks (issue 5 item 5): public, authenticated by the provider's signature.
  app.post('/v1/provider-hooks', {
    config: { scope: 'admin' },
    schema: { tags: ['bounces'], body: Type.Object({ provider: Type.String({ maxLength: 20 }), secret: Type.Optional(Type.String({ maxLength: 4000 })) }) },
  }, async (req, reply) => reply.status(201).send(await core.providerHooks.create(acc(req), req.body.provider, req.body.secret)));
  app.get('/v1/provider-hooks', { config: { scope: 'read' }, schema: { tags: ['bounces'] } }, async (req) => ({ items: await core.providerHooks.list(acc(req)) }));
  app.delete('/v1/provider-hooks/:id', { config: { scope: 'admin' }, schema: { tags: ['bounces'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (req, reply) => {
    await core.providerHooks.remove(acc(req), req.params.id);
    return reply.status(204).send();
  });
  await app.register(async (scope) => {
    // The signature covers the exact bytes, so the body is kept raw whatever its content type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/hooks/:provider/:id', {
      config: { public: true },
      schema: { hide: true, params: Type.Object({ provider: Type.String({ maxLength: 20 }), id: Type.String({ maxLength: 64 }) }) },
    }, async (req, reply) => {
      const params = req.params as { provider: string; id: string };
      return reply.send(await core.providerHooks.receive(params.provider, params.id, (req.body as Buffer) ?? Buffer.alloc(0), req.headers));
    });
  });
};
