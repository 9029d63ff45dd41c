import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import type { RouteModule } from '../types.js';

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const Consent = Type.Object({
  source: Type.Optional(Type.String({ maxLength: 200 })), at: Type.Optional(Type.Integer()), ip: Type.Optional(Type.String({ maxLength: 64 })),
  confirmed_at: Type.Optional(Type.Integer()),
});

/** Contacts: upsert, list, get (with subscriptions and consent), attributes, subscriptions, delete. */
export const contactRoutes: RouteModule = (app, { core }) => {
  app.post('/v1/contacts', {
    config: { scope: 'write' },
    schema: {
      tags: ['contacts'],
      body: Type.Object({
        email: Type.String({ maxLength: 320 }), attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        lists: Type.Optional(Type.Array(Type.Object({ list_id: Type.String(), consent: Type.Optional(Consent) }), { maxItems: 50 })),
      }),
    },
  }, async (req, reply) => reply.status(201).send(await core.contacts.upsert(principalOf(req).accountId, req.body)));
  app.get('/v1/contacts', {
    config: { scope: 'read' },
    schema: { tags: ['contacts'], querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), q: Type.Optional(Type.String()) }) },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const rows = await core.contacts.list(principalOf(req).accountId, { after: req.query.after, limit, prefix: req.query.q });
    return { items: rows.map((c) => ({ id: c.id, address: c.address, attributes: JSON.parse(c.attributes), created_at: c.created_at })), next_cursor: rows.length === limit ? String(rows[rows.length - 1].id) : null };
  });
  app.get('/v1/contacts/:id', { config: { scope: 'read' }, schema: { tags: ['contacts'], params: Id } },
    async (req) => core.contacts.get(principalOf(req).accountId, req.params.id));
  app.patch('/v1/contacts/:id', { config: { scope: 'write' }, schema: { tags: ['contacts'], params: Id, body: Type.Object({ attributes: Type.Record(Type.String(), Type.Unknown()) }) } },
    async (req) => core.contacts.updateAttributes(principalOf(req).accountId, req.params.id, req.body.attributes));
  app.delete('/v1/contacts/:id', { config: { scope: 'write' }, schema: { tags: ['contacts'], params: Id } }, async (req, reply) => {
    await core.contacts.remove(principalOf(req).accountId, req.params.id);
    return reply.status(204).send();
  });
  app.post('/v1/contacts/:id/subscriptions', {
    config: { scope: 'write' },
    schema: { tags: ['contacts'], params: Id, body: Type.Object({ list_id: Type.String(), status: Type.Union([Type.Literal('subscribed'), Type.Literal('unsubscribed'), Type.Literal('pending')]), consent: Type.Optional(Consent) }) },
  }, async (req) => core.contacts.setSubscription(principalOf(req).accountId, req.params.id, req.body.list_id, req.body.status, req.body.consent));
};
