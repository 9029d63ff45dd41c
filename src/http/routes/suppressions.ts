import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { exportSuppressionsCsv, importSuppressionsCsv } from '../../core/suppressions-csv.js';
import { fail } from '../../domain/errors.js';
import { principalOf } from '../auth.js';
import type { RouteModule } from '../types.js';

const Scope = Type.Union([Type.Literal('account'), Type.Literal('list')]);
const Entry = Type.Object({
  address: Type.String({ maxLength: 320 }), scope: Scope, list_id: Type.Optional(Type.String({ maxLength: 64 })),
  reason: Type.String({ maxLength: 40 }), note: Type.Optional(Type.String({ maxLength: 2000 })),
});
const Filter = Type.Object({
  prefix: Type.Optional(Type.String()), reason: Type.Optional(Type.String()), scope: Type.Optional(Scope), list_id: Type.Optional(Type.String()),
  from: Type.Optional(Type.Integer()), to: Type.Optional(Type.Integer()), after: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

/** The suppression ledger: add, remove (= resubscribe), history, search, counts, CSV export and import. */
export const suppressionRoutes: RouteModule = async (app, { core, deps }) => {
  const ctx = (req: Parameters<typeof principalOf>[0]) => ({ source: principalOf(req).actor, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 500) });
  app.post('/v1/suppressions', { config: { scope: 'write' }, schema: { tags: ['suppressions'], body: Type.Object({ entries: Type.Array(Entry, { minItems: 1, maxItems: 10_000 }) }) } },
    async (req, reply) => reply.status(201).send(await core.suppressions.add(principalOf(req).accountId,
      req.body.entries.map((e) => ({ address: e.address, scope: e.scope, listId: e.list_id, reason: e.reason, note: e.note })), ctx(req))));
  app.delete('/v1/suppressions', {
    config: { scope: 'write' },
    schema: { tags: ['suppressions'], body: Type.Object({ address: Type.String(), scope: Scope, list_id: Type.Optional(Type.String()), note: Type.String({ maxLength: 2000 }) }) },
  }, async (req, reply) => {
    await core.suppressions.remove(principalOf(req).accountId, req.body.address, req.body.scope, req.body.list_id ?? null, { ...ctx(req), note: req.body.note });
    return reply.status(204).send();
  });
  app.get('/v1/suppressions', { config: { scope: 'read' }, schema: { tags: ['suppressions'], querystring: Filter } }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    const items = await core.suppressions.search(principalOf(req).accountId, { prefix: q.prefix, reason: q.reason, scope: q.scope, listId: q.list_id, from: q.from, to: q.to, after: q.after, limit });
    return { items, next_cursor: items.length === limit ? String(items[items.length - 1].id) : null };
  });
  app.get('/v1/suppressions/counts', { config: { scope: 'read' }, schema: { tags: ['suppressions'] } },
    async (req) => core.suppressions.counts(principalOf(req).accountId));
  app.get('/v1/suppressions/stats', {
    config: { scope: 'read' }, schema: { tags: ['suppressions'], querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 400 })) }) },
  }, async (req) => core.suppressions.unsubscribeStats(principalOf(req).accountId, req.query.days ?? 30));
  app.get('/v1/suppressions/export.csv', { config: { scope: 'read' }, schema: { tags: ['suppressions'], querystring: Filter } }, async (req, reply) => {
    const out = new PassThrough();
    const q = req.query;
    exportSuppressionsCsv(deps, principalOf(req).accountId, { prefix: q.prefix, reason: q.reason, scope: q.scope, listId: q.list_id, from: q.from, to: q.to }, out).catch((e) => out.destroy(e));
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="suppressions.csv"').send(out);
  });
  // Bulk imports (audit): one row each, with how far it got; `interrupted` when its process ended.
  app.get('/v1/suppressions/imports', {
    config: { scope: 'read' },
    schema: { tags: ['suppressions'], querystring: Type.Object({ after: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }) },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const items = await core.suppressions.listImports(principalOf(req).accountId, req.query.after, limit);
    return { items, next_cursor: items.length === limit ? items[items.length - 1].id : null };
  });
  app.get('/v1/suppressions/imports/:id', { config: { scope: 'read' }, schema: { tags: ['suppressions'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
    async (req) => (await core.suppressions.getImport(principalOf(req).accountId, req.params.id)) ?? fail('E_NOT_FOUND', 'no such import'));
  app.get('/v1/suppressions/:address', { config: { scope: 'read' }, schema: { tags: ['suppressions'], params: Type.Object({ address: Type.String({ maxLength: 320 }) }) } },
    async (req) => core.suppressions.get(principalOf(req).accountId, req.params.address));
  await app.register(async (scope) => {
    scope.addContentTypeParser(['text/csv', 'application/csv'], (_req, payload, done) => done(null, payload));
    scope.post('/v1/suppressions/import', { config: { scope: 'write' }, bodyLimit: 2 * 1024 * 1024 * 1024, schema: { tags: ['suppressions'] } },
      async (req) => importSuppressionsCsv(core.suppressions, principalOf(req).accountId, req.body as never,
        { source: `import:${principalOf(req).actor}`, ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 500) }));
  });
};
