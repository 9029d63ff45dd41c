import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { errorResponses, IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Credential = Type.Object({
  id: Type.String(), name: Type.String(), username: Type.String(), rate_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  allowed_ips: Type.Array(Type.String()), ip_auth: Type.Boolean(), created_at: Type.Number(), created_by: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.Number(), Type.Null()]), revoked_at: Type.Union([Type.Number(), Type.Null()]),
});
const CredentialBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  rate_per_minute: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
  allowed_ips: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
  ip_auth: Type.Optional(Type.Boolean()),
});
const Filter = Type.Object({
  id: Type.String(), position: Type.Integer(), name: Type.String(), header: Type.String(), match: Type.String(), value: Type.String(),
  list_id: Type.String(), created_at: Type.Number(), updated_at: Type.Number(),
});
const FilterBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), header: Type.String({ minLength: 1, maxLength: 76 }),
  match: Type.Union([Type.Literal('exact'), Type.Literal('regex')]), value: Type.String({ minLength: 1, maxLength: 200 }),
  list_id: Type.String({ maxLength: 64 }), position: Type.Optional(Type.Integer({ minimum: 1 })),
});
const strip = <T extends { account_id?: string }>(f: T) => {
  const { account_id: _a, ...rest } = f;
  return rest;
};

/** SMTP credentials (password shown once, stored hashed, revocable) and ordered relay filters (issue 7). */
export const relayRoutes: RouteModule = async (app, { core }) => {
  app.post('/v1/smtp-credentials', {
    config: { scope: 'admin' },
    schema: { tags: ['relay'], body: CredentialBody, response: { 201: Type.Intersect([Credential, Type.Object({ password: Type.String() })]), ...errorResponses } },
  }, async (req, reply) => {
    const p = principalOf(req);
    return reply.status(201).send(await core.relay.createCredential(p.accountId, req.body, p.actor));
  });
  app.get('/v1/smtp-credentials', { config: { scope: 'admin' }, schema: { tags: ['relay'], response: { 200: Type.Object({ items: Type.Array(Credential) }), ...errorResponses } } },
    async (req) => ({ items: await core.relay.listCredentials(principalOf(req).accountId) }));
  app.get('/v1/smtp-credentials/:id', { config: { scope: 'admin' }, schema: { tags: ['relay'], params: IdParams, response: { 200: Credential, ...errorResponses } } },
    async (req) => core.relay.getCredential(principalOf(req).accountId, req.params.id));
  app.patch('/v1/smtp-credentials/:id', { config: { scope: 'admin' }, schema: { tags: ['relay'], params: IdParams, body: CredentialBody, response: { 200: Credential, ...errorResponses } } },
    async (req) => core.relay.updateCredential(principalOf(req).accountId, req.params.id, req.body));
  app.delete('/v1/smtp-credentials/:id', { config: { scope: 'admin' }, schema: { tags: ['relay'], params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await core.relay.revokeCredential(principalOf(req).accountId, req.params.id);
      return reply.status(204).send(null);
    });

  app.post('/v1/relay-filters', { config: { scope: 'write' }, schema: { tags: ['relay'], body: FilterBody, response: { 201: Filter, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(strip(await core.relay.createFilter(principalOf(req).accountId, req.body))));
  app.get('/v1/relay-filters', { config: { scope: 'read' }, schema: { tags: ['relay'], response: { 200: Type.Object({ items: Type.Array(Filter) }), ...errorResponses } } },
    async (req) => ({ items: (await core.relay.listFilters(principalOf(req).accountId)).map(strip) }));
  app.get('/v1/relay-filters/:id', { config: { scope: 'read' }, schema: { tags: ['relay'], params: IdParams, response: { 200: Filter, ...errorResponses } } },
    async (req) => strip(await core.relay.getFilter(principalOf(req).accountId, req.params.id)));
  app.patch('/v1/relay-filters/:id', { config: { scope: 'write' }, schema: { tags: ['relay'], params: IdParams, body: Type.Partial(FilterBody), response: { 200: Filter, ...errorResponses } } },
    async (req) => strip(await core.relay.updateFilter(principalOf(req).accountId, req.params.id, req.body)));
  app.delete('/v1/relay-filters/:id', { config: { scope: 'write' }, schema: { tags: ['relay'], params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await core.relay.removeFilter(principalOf(req).accountId, req.params.id);
      return reply.status(204).send(null);
    });

  app.get('/v1/relay/stats', {
    config: { scope: 'read' }, schema: { tags: ['relay'], querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 400 })) }) },
  }, async (req) => core.relay.stats(principalOf(req).accountId, req.query.days ?? 30));
};
