import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { errorResponses, IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Scope = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')]);
const KeyInfo = Type.Object({
  id: Type.String(), name: Type.String(), scopes: Type.String(), created_at: Type.Number(),
  last_used_at: Type.Union([Type.Number(), Type.Null()]), revoked_at: Type.Union([Type.Number(), Type.Null()]),
  created_by: Type.Union([Type.String(), Type.Null()]),
});

/** API keys of the caller's account: create (secret shown once), list, revoke. Admin scope. */
export const apiKeyRoutes: RouteModule = (app, { core }) => {
  app.post('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: {
      tags: ['api-keys'],
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), scopes: Type.Array(Scope, { minItems: 1 }) }),
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), scopes: Type.Array(Scope), key: Type.String() }), ...errorResponses },
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    const k = await core.accounts.createApiKey(p.accountId, req.body.name, req.body.scopes, p.actor);
    return reply.status(201).send(k);
  });
  app.get('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: { tags: ['api-keys'], response: { 200: Type.Object({ items: Type.Array(KeyInfo) }), ...errorResponses } },
  }, async (req) => ({ items: await core.accounts.listApiKeys(principalOf(req).accountId) }));
  app.delete('/v1/api-keys/:id', {
    config: { scope: 'admin' },
    schema: { tags: ['api-keys'], params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await core.accounts.revokeApiKey(principalOf(req).accountId, req.params.id);
    return reply.status(204).send(null);
  });
};
