import { Type } from '@sinclair/typebox';
import { fail } from '../../domain/errors.js';
import { principalOf } from '../auth.js';
import type { RouteModule } from '../types.js';

/** Raw upload types; the content is sniffed anyway (reporters label gzip as octet-stream). */
const RAW_TYPES = [
  'application/xml', 'text/xml', 'application/gzip', 'application/x-gzip', 'application/zip', 'application/x-zip-compressed',
  'message/rfc822', 'application/octet-stream',
];
const Range = { from: Type.Optional(Type.Integer({ minimum: 0 })), to: Type.Optional(Type.Integer({ minimum: 0 })) };
const Domain = Type.String({ minLength: 1, maxLength: 253 });

/** The body of a JSON upload. */
function fromJson(body: unknown): { filename?: string; content: Buffer } {
  const b = body as { filename?: unknown; content_base64?: unknown } | null;
  if (!b || typeof b !== 'object' || typeof b.content_base64 !== 'string') fail('E_VALIDATION', 'JSON uploads need {filename, content_base64}');
  if (b.filename !== undefined && (typeof b.filename !== 'string' || b.filename.length > 255)) fail('E_VALIDATION', 'filename must be a string of at most 255 characters');
  if (!/^[A-Za-z0-9+/=_\s-]*$/.test(b.content_base64)) fail('E_VALIDATION', 'content_base64 is not base64');
  return { filename: b.filename as string | undefined, content: Buffer.from(b.content_base64, 'base64') };
}

/** DMARC aggregate reports (issue 9): upload, list, show, analysis per domain, the rua address. */
export const dmarcRoutes: RouteModule = async (app, { core, deps }) => {
  await app.register(async (scope) => {
    // Base64 (JSON, e-mails) is 4/3 of the bytes; a raw file over maxInputBytes is refused as E_DMARC_TOO_LARGE by the parser.
    const bodyLimit = Math.ceil(deps.config.dmarc.maxInputBytes * 4 / 3) + 2 * 1024 * 1024;
    scope.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
    scope.post('/v1/dmarc/reports', {
      config: { scope: 'write' }, bodyLimit,
      schema: { tags: ['dmarc'], querystring: Type.Object({ filename: Type.Optional(Type.String({ maxLength: 255 })) }) },
    }, async (req, reply) => {
      const filename = (req.query as { filename?: string }).filename;
      // text/plain (Fastify's own parser) is taken as raw too: some tools label XML that way.
      const raw = RAW_TYPES.includes(String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase());
      const upload = Buffer.isBuffer(req.body) ? { filename, content: req.body }
        : raw && (req.body === undefined || req.body === null) ? { filename, content: Buffer.alloc(0) }
        : typeof req.body === 'string' ? { filename, content: Buffer.from(req.body, 'utf8') } : fromJson(req.body);
      const reports = await core.dmarc.ingest(principalOf(req).accountId, upload.content, { source: 'api', filename: upload.filename });
      const fresh = reports.some((r) => !r.duplicate);
      return reply.status(fresh ? 201 : 200).send({ ...reports[0], duplicate: !fresh, reports });
    });
  });
  app.get('/v1/dmarc/reports', {
    config: { scope: 'read' },
    schema: {
      tags: ['dmarc'],
      querystring: Type.Object({ domain: Type.Optional(Domain), ...Range, cursor: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
    },
  }, async (req) => core.dmarc.list(principalOf(req).accountId, { domain: req.query.domain, from: req.query.from, to: req.query.to, before: req.query.cursor, limit: req.query.limit }));
  app.get('/v1/dmarc/reports/:id', { config: { scope: 'read' }, schema: { tags: ['dmarc'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
    async (req) => core.dmarc.get(principalOf(req).accountId, req.params.id));
  app.get('/v1/dmarc/analysis', {
    config: { scope: 'read' },
    schema: { tags: ['dmarc'], querystring: Type.Object({ domain: Domain, ...Range, ptr: Type.Optional(Type.Boolean()) }) },
  }, async (req) => core.dmarc.analyse(principalOf(req).accountId, req.query.domain, { from: req.query.from, to: req.query.to, ptr: req.query.ptr }));
  app.get('/v1/dmarc/domains', { config: { scope: 'read' }, schema: { tags: ['dmarc'] } }, async (req) => ({ items: await core.dmarc.domains(principalOf(req).accountId) }));
  app.get('/v1/dmarc/address', { config: { scope: 'read' }, schema: { tags: ['dmarc'] } }, async (req) => core.dmarc.address(principalOf(req).accountId));
};
