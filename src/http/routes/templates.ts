import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Body = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }), subject: Type.String({ maxLength: 2000 }),
  html: Type.Optional(Type.Union([Type.String(), Type.Null()])), text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** Liquid templates: CRUD. */
export const templateRoutes: RouteModule = (app, { core }) => {
  app.post('/v1/templates', { config: { scope: 'write' }, schema: { tags: ['templates'], body: Body } },
    async (req, reply) => reply.status(201).send(await core.templates.create(principalOf(req).accountId, req.body)));
  app.get('/v1/templates', { config: { scope: 'read' }, schema: { tags: ['templates'] } },
    async (req) => ({ items: await core.templates.list(principalOf(req).accountId) }));
  app.get('/v1/templates/:id', { config: { scope: 'read' }, schema: { tags: ['templates'], params: IdParams } },
    async (req) => core.templates.get(principalOf(req).accountId, req.params.id));
  app.patch('/v1/templates/:id', { config: { scope: 'write' }, schema: { tags: ['templates'], params: IdParams, body: Type.Partial(Body) } },
    async (req) => core.templates.update(principalOf(req).accountId, req.params.id, req.body));
  app.delete('/v1/templates/:id', { config: { scope: 'write' }, schema: { tags: ['templates'], params: IdParams } },
    async (req, reply) => {
      await core.templates.remove(principalOf(req).accountId, req.params.id);
      return reply.status(204).send();
    });
};
