import { Type } from '@sinclair/typebox';
import { parseAddress } from '../../domain/address.js';
import { principalOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Addr = Type.String({ minLength: 3, maxLength: 320 });
const SendBody = Type.Object({
  from: Type.String({ minLength: 3, maxLength: 400 }),
  reply_to: Type.Optional(Type.Union([Type.String({ maxLength: 400 }), Type.Null()])),
  to: Type.Array(Addr, { minItems: 1, maxItems: 1000 }),
  cc: Type.Optional(Type.Array(Addr, { maxItems: 100 })),
  bcc: Type.Optional(Type.Array(Addr, { maxItems: 100 })),
  subject: Type.Optional(Type.String({ maxLength: 2000 })),
  html: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  template_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  attachments: Type.Optional(Type.Array(Type.Object({
    filename: Type.String({ minLength: 1, maxLength: 255 }), content_type: Type.String({ maxLength: 255 }), content: Type.String(),
  }), { maxItems: 50 })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  // Absent or other values are answered by the core with E_CATEGORY_REQUIRED (R-SCOPE-4).
  category: Type.Optional(Type.String()),
  list_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
});
const Queued = Type.Object({ id: Type.Number(), to: Type.String(), message_id: Type.String(), status: Type.String(), reason: Type.Union([Type.String(), Type.Null()]) });

/** Transactional and subscription messages through the API, and the send log. */
export const messageRoutes: RouteModule = (app, { core }) => {
  app.post('/v1/messages', {
    config: { scope: 'write' },
    schema: { tags: ['messages'], body: SendBody, response: { 202: Type.Object({ messages: Type.Array(Queued) }), ...errorResponses } },
  }, async (req, reply) => {
    const p = principalOf(req);
    const key = req.headers['idempotency-key'];
    const r = await core.messages.submit(p.accountId, req.body, { idempotencyKey: typeof key === 'string' ? key : undefined, actor: p.actor });
    return reply.status(202).send(r);
  });
  app.get('/v1/messages', {
    config: { scope: 'read' },
    schema: {
      tags: ['messages'],
      querystring: Type.Object({
        campaign_id: Type.Optional(Type.String()), recipient: Type.Optional(Type.String()), status: Type.Optional(Type.String()),
        message_id: Type.Optional(Type.String()), after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      }),
    },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 100;
    const items = await core.messages.list(principalOf(req).accountId, {
      campaignId: q.campaign_id, rcptKey: q.recipient ? parseAddress(q.recipient, 'recipient').key : undefined,
      status: q.status, messageId: q.message_id, after: q.after, limit,
    });
    return { items: items.map(publicMessage), next_cursor: items.length === limit ? String(items[items.length - 1].id) : null };
  });
  app.get('/v1/messages/:id', {
    config: { scope: 'read' },
    schema: { tags: ['messages'], params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) },
  }, async (req) => {
    const m = await core.messages.get(principalOf(req).accountId, req.params.id);
    return { ...publicMessage(m), events: m.events.map((e) => ({ id: e.id, type: e.type, at: e.created_at, data: e.data ? JSON.parse(e.data) : null })) };
  });
};

/** The API shape of a message row (no lease internals). */
export function publicMessage(m: { id: number; campaign_id: string | null; list_id: string | null; category: string; from_address: string; rcpt: string; message_id: string; status: string; reason: string | null; attempts: number; next_attempt_at: number; last_reply: string | null; created_at: number; sent_at: number | null }) {
  return {
    id: m.id, campaign_id: m.campaign_id, list_id: m.list_id, category: m.category, from: m.from_address, to: m.rcpt,
    message_id: m.message_id, status: m.status, reason: m.reason, attempts: m.attempts, next_attempt_at: m.next_attempt_at,
    last_reply: m.last_reply, created_at: m.created_at, sent_at: m.sent_at,
  };
}
