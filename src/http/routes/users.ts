import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')]);

/** Console users of the caller's account (issue 8): list, add, change role/password, disable. Admin scope. */
export const userRoutes: RouteModule = (app, { core }) => {
  app.get('/v1/users', { config: { scope: 'admin' }, schema: { tags: ['users'] } },
    async (req) => ({ items: await core.consoleUsers.list(principalOf(req).accountId) }));
  app.post('/v1/users', {
    config: { scope: 'admin' },
    schema: { tags: ['users'], body: Type.Object({ email: Type.String({ maxLength: 320 }), role: Role, password: Type.Optional(Type.String({ maxLength: 1024 })) }) },
  }, async (req, reply) => {
    const r = await core.consoleUsers.add(principalOf(req).accountId, req.body);
    return reply.status(201).send({ ...r.user, ...(r.password ? { password: r.password } : {}) });
  });
  app.patch('/v1/users/:id', {
    config: { scope: 'admin' },
    schema: {
      tags: ['users'], params: IdParams,
      body: Type.Object({ role: Type.Optional(Role), password: Type.Optional(Type.String({ maxLength: 1024 })), disabled: Type.Optional(Type.Boolean()) }),
    },
  }, async (req) => core.consoleUsers.update(principalOf(req).accountId, req.params.id, req.body));
};
