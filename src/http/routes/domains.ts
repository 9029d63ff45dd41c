import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

/** Sending domains: add (keys generated), list, show, DNS records, key rotation, retire, delete. */
export const domainRoutes: RouteModule = (app, { core }) => {
  app.post('/v1/domains', {
    config: { scope: 'admin' },
    schema: {
      tags: ['domains'],
      body: Type.Object({
        name: Type.String({ minLength: 3, maxLength: 253 }),
        return_path_domain: Type.Optional(Type.String({ maxLength: 253 })),
        unsubscribe_host: Type.Optional(Type.Union([Type.String({ maxLength: 253 }), Type.Null()])),
        test_mode: Type.Optional(Type.Boolean()),
      }),
    },
  }, async (req, reply) => {
    const b = req.body;
    const d = await core.domains.addDomain(principalOf(req).accountId, b.name, { returnPathDomain: b.return_path_domain, unsubscribeHost: b.unsubscribe_host, testMode: b.test_mode });
    return reply.status(201).send(d);
  });
  app.get('/v1/domains', { config: { scope: 'read' }, schema: { tags: ['domains'] } },
    async (req) => ({ items: await core.domains.list(principalOf(req).accountId) }));
  app.get('/v1/domains/:id', { config: { scope: 'read' }, schema: { tags: ['domains'], params: IdParams } },
    async (req) => core.domains.show(principalOf(req).accountId, req.params.id));
  app.get('/v1/domains/:id/dns', { config: { scope: 'read' }, schema: { tags: ['domains'], params: IdParams } },
    async (req) => core.domains.dns(principalOf(req).accountId, req.params.id));
  app.patch('/v1/domains/:id', {
    config: { scope: 'admin' },
    schema: { tags: ['domains'], params: IdParams, body: Type.Object({ unsubscribe_host: Type.Optional(Type.Union([Type.String(), Type.Null()])), test_mode: Type.Optional(Type.Boolean()) }) },
  }, async (req) => core.domains.update(principalOf(req).accountId, req.params.id, { unsubscribeHost: req.body.unsubscribe_host, testMode: req.body.test_mode }));
  app.post('/v1/domains/:id/rotate-key', { config: { scope: 'admin' }, schema: { tags: ['domains'], params: IdParams } },
    async (req) => core.domains.rotateKeys(principalOf(req).accountId, req.params.id));
  app.post('/v1/domains/:id/keys/:keyId/retire', {
    config: { scope: 'admin' }, schema: { tags: ['domains'], params: Type.Object({ id: Type.String(), keyId: Type.String() }) },
  }, async (req) => core.domains.retireKey(principalOf(req).accountId, req.params.id, req.params.keyId));
  app.delete('/v1/domains/:id', { config: { scope: 'admin' }, schema: { tags: ['domains'], params: IdParams } }, async (req, reply) => {
    await core.domains.remove(principalOf(req).accountId, req.params.id);
    return reply.status(204).send();
  });
};
