import { Type } from '@sinclair/typebox';
import { simpleParser } from 'mailparser';
import { fail } from '../../domain/errors.js';
import { capturedRepo } from '../../store/captured-repo.js';
import { principalOf } from '../auth.js';
import { errorResponses, Page } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const Meta = Type.Object({
  id: Type.Number(), message_id: Type.Union([Type.Number(), Type.Null()]), mail_from: Type.String(),
  rcpt_to: Type.String(), size: Type.Number(), created_at: Type.Number(),
});
const Detail = Type.Composite([Meta, Type.Object({
  subject: Type.Union([Type.String(), Type.Null()]),
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  date: Type.Union([Type.String(), Type.Null()]),
  message_id_header: Type.Union([Type.String(), Type.Null()]),
  /** Every header field in order, unfolded but not decoded: what a receiver would see. */
  headers: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
})]);

const addrText = (a: unknown) => (a ? [a].flat().map((x) => (x as { text: string }).text).join(', ') : null);

/** Mail kept by the capture transport: list, headers, download as .eml, clear. Scoped to the caller's account. */
export const capturedRoutes: RouteModule = (app, { deps }) => {
  const repo = capturedRepo(deps.store);
  app.get('/v1/captured', {
    config: { scope: 'read' },
    schema: {
      tags: ['captured'],
      querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), rcpt: Type.Optional(Type.String({ maxLength: 320 })) }),
      response: { 200: Page(Meta), ...errorResponses },
    },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const items = await repo.list(principalOf(req).accountId, { after: req.query.after, limit, rcpt: req.query.rcpt });
    return { items, next_cursor: items.length === limit ? String(items[items.length - 1].id) : null };
  });
  app.get('/v1/captured/:id', { config: { scope: 'read' }, schema: { tags: ['captured'], params: Id, response: { 200: Detail, ...errorResponses } } }, async (req) => {
    const m = await repo.get(principalOf(req).accountId, req.params.id);
    if (!m) fail('E_NOT_FOUND', 'captured message not found');
    const { raw, account_id: _a, ...meta } = m;
    const p = await simpleParser(Buffer.from(raw), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
    const headers = p.headerLines.map((h) => {
      const colon = h.line.indexOf(':');
      return { name: h.line.slice(0, colon), value: h.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
    });
    return {
      ...meta, subject: p.subject ?? null, from: addrText(p.from), to: addrText(p.to),
      date: p.date ? p.date.toISOString() : null, message_id_header: p.messageId ?? null, headers,
    };
  });
  app.get('/v1/captured/:id/raw', { config: { scope: 'read' }, schema: { tags: ['captured'], params: Id } }, async (req, reply) => {
    const m = await repo.get(principalOf(req).accountId, req.params.id);
    if (!m) fail('E_NOT_FOUND', 'captured message not found');
    return reply.type('message/rfc822').header('content-disposition', `attachment; filename="message-${m.id}.eml"`).send(Buffer.from(m.raw));
  });
  app.delete('/v1/captured', { config: { scope: 'write' }, schema: { tags: ['captured'], response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    await repo.clear(principalOf(req).accountId);
    return reply.status(204).send(null);
  });
};
