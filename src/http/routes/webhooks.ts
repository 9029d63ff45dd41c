import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

const EventTypes = Type.Array(Type.String({ maxLength: 40 }), { minItems: 1, maxItems: 20 });
const Create = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000 }), description: Type.Optional(Type.String({ maxLength: 500 })),
  event_types: Type.Optional(EventTypes), secret: Type.Optional(Type.String({ maxLength: 200 })),
});
const Update = Type.Object({
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })), description: Type.Optional(Type.String({ maxLength: 500 })),
  event_types: Type.Optional(EventTypes), status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
});
const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 64 }), deliveryId: Type.Integer({ minimum: 1 }) });
const DeliveryQuery = Type.Object({
  status: Type.Optional(Type.Union(['pending', 'delivering', 'succeeded', 'failed'].map((s) => Type.Literal(s)))),
  event_type: Type.Optional(Type.String({ maxLength: 40 })), after: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});

/**
 * Webhook endpoints and deliveries (issue 10). Managing endpoints needs the admin scope (an
 * endpoint receives every event of the account); the secret is in the create and rotate answers only.
 */
export const webhookRoutes: RouteModule = async (app, { core }) => {
  const acct = (req: Parameters<typeof principalOf>[0]) => principalOf(req).accountId;
  const tags = ['webhooks'];
  app.post('/v1/webhooks', { config: { scope: 'admin' }, schema: { tags, body: Create } }, async (req, reply) =>
    reply.status(201).send(await core.webhooks.create(acct(req), { url: req.body.url, description: req.body.description, eventTypes: req.body.event_types, secret: req.body.secret })));
  app.get('/v1/webhooks', { config: { scope: 'read' }, schema: { tags } }, async (req) => ({ items: await core.webhooks.list(acct(req)) }));
  app.get('/v1/webhooks/:id', { config: { scope: 'read' }, schema: { tags, params: IdParams } }, async (req) => core.webhooks.get(acct(req), req.params.id));
  app.patch('/v1/webhooks/:id', { config: { scope: 'admin' }, schema: { tags, params: IdParams, body: Update } }, async (req) =>
    core.webhooks.update(acct(req), req.params.id, { url: req.body.url, description: req.body.description, eventTypes: req.body.event_types, status: req.body.status }));
  app.delete('/v1/webhooks/:id', { config: { scope: 'admin' }, schema: { tags, params: IdParams } }, async (req, reply) => {
    await core.webhooks.remove(acct(req), req.params.id);
    return reply.status(204).send();
  });
  app.post('/v1/webhooks/:id/rotate-secret', {
    config: { scope: 'admin' }, schema: { tags, params: IdParams, body: Type.Optional(Type.Object({ secret: Type.Optional(Type.String({ maxLength: 200 })) })) },
  }, async (req) => core.webhooks.rotateSecret(acct(req), req.params.id, { secret: req.body?.secret }));
  app.get('/v1/webhooks/:id/deliveries', { config: { scope: 'read' }, schema: { tags, params: IdParams, querystring: DeliveryQuery } }, async (req) =>
    core.webhooks.deliveries(acct(req), req.params.id, { status: req.query.status, eventType: req.query.event_type, after: req.query.after, limit: req.query.limit }));
  app.post('/v1/webhooks/:id/deliveries/:deliveryId/redeliver', { config: { scope: 'write' }, schema: { tags, params: DeliveryParams } }, async (req, reply) =>
    reply.status(202).send(await core.webhooks.redeliver(acct(req), req.params.id, req.params.deliveryId)));
  app.post('/v1/webhooks/:id/test', { config: { scope: 'write' }, schema: { tags, params: IdParams } }, async (req) => core.webhooks.test(acct(req), req.params.id));
};
