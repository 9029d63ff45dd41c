import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

/** Lists: CRUD and streamed CSV import of contacts. */
export const listRoutes: RouteModule = async (app, { core }) => {
  const Body = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Type.String({ maxLength: 2000 })) });
  app.post('/v1/lists', { config: { scope: 'write' }, schema: { tags: ['lists'], body: Body } },
    async (req, reply) => reply.status(201).send(await core.lists.create(principalOf(req).accountId, req.body)));
  app.get('/v1/lists', { config: { scope: 'read' }, schema: { tags: ['lists'] } }, async (req) => ({ items: await core.lists.list(principalOf(req).accountId) }));
  app.get('/v1/lists/:id', { config: { scope: 'read' }, schema: { tags: ['lists'], params: IdParams } },
    async (req) => core.lists.show(principalOf(req).accountId, req.params.id));
  app.patch('/v1/lists/:id', { config: { scope: 'write' }, schema: { tags: ['lists'], params: IdParams, body: Type.Partial(Body) } },
    async (req) => core.lists.update(principalOf(req).accountId, req.params.id, req.body));
  app.delete('/v1/lists/:id', { config: { scope: 'write' }, schema: { tags: ['lists'], params: IdParams } }, async (req, reply) => {
    await core.lists.remove(principalOf(req).accountId, req.params.id);
    return reply.status(204).send();
  });
  // The CSV body is streamed into the importer, never buffered whole.
  await app.register(async (scope) => {
    scope.addContentTypeParser(['text/csv', 'application/csv', 'application/octet-stream'], (_req, payload, done) => done(null, payload));
    scope.post('/v1/lists/:id/import', { config: { scope: 'write' }, bodyLimit: 2 * 1024 * 1024 * 1024, schema: { tags: ['lists'], params: IdParams } }, async (req) => {
      const p = principalOf(req);
      const list = await core.lists.get(p.accountId, (req.params as { id: string }).id);
      return core.contacts.import(p.accountId, list.id, req.body as NodeJS.ReadableStream as never, { consentSource: `import:${p.actor}` });
    });
  });
};
