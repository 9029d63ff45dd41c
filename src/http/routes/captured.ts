import { Type } from '@sinclair/typebox';
import { fail } from '../../domain/errors.js';
import { capturedRepo } from '../../store/captured-repo.js';
import { principalOf } from '../auth.js';
import type { RouteModule } from '../types.js';

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** Mail kept by the capture transport: list, headers, download as .eml, clear. */
export const capturedRoutes: RouteModule = (app, { deps }) => {
  const repo = capturedRepo(deps.store);
  app.get('/v1/captured', {
    config: { scope: 'read' },
    schema: { tags: ['captured'], querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), rcpt: Type.Optional(Type.String()) }) },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const items = await repo.list(principalOf(req).accountId, { after: req.query.after, limit, rcpt: req.query.rcpt });
    return { items, next_cursor: items.length === limit ? String(items[items.length - 1].id) : null };
  });
  app.get('/v1/captured/:id', { config: { scope: 'read' }, schema: { tags: ['captured'], params: Id } }, async (req) => {
    const m = await repo.get(principalOf(req).accountId, req.params.id);
    if (!m) fail('E_NOT_FOUND', 'captured message not found');
    const raw = Buffer.from(m.raw);
    const end = raw.indexOf('\r\n\r\n');
    return { id: m.id, message_id: m.message_id, mail_from: m.mail_from, rcpt_to: m.rcpt_to, size: m.size, created_at: m.created_at, headers: raw.subarray(0, end < 0 ? raw.length : end).toString('utf8') };
  });
  app.get('/v1/captured/:id/raw', { config: { scope: 'read' }, schema: { tags: ['captured'], params: Id } }, async (req, reply) => {
    const m = await repo.get(principalOf(req).accountId, req.params.id);
    if (!m) fail('E_NOT_FOUND', 'captured message not found');
    return reply.type('message/rfc822').header('content-disposition', `attachment; filename="message-${m.id}.eml"`).send(Buffer.from(m.raw));
  });
  app.delete('/v1/captured', { config: { scope: 'write' }, schema: { tags: ['captured'] } }, async (req, reply) => {
    await repo.clear(principalOf(req).accountId);
    return reply.status(204).send();
  });
};
