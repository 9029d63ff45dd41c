import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import type { RouteModule } from '../types.js';

const DomainParam = Type.Object({ id: Type.String({ maxLength: 300 }) });
const Days = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })) });
const Category = Type.Optional(Type.Union([Type.Literal('subscription'), Type.Literal('transactional'), Type.Literal('auto')]));
const RAW_TYPES = ['message/rfc822', 'message/global', 'application/octet-stream', 'text/plain'];

/** Domain checks, lint, volume, bulk senders, spam rate, warm-up and stream resume (issue 6). */
export const complianceRoutes: RouteModule = async (app, { core }) => {
  app.get('/v1/domains/:id/check', {
    config: { scope: 'read' },
    schema: {
      tags: ['compliance'], summary: 'The stored DNS check of a domain (SPF, DKIM, DMARC, PTR, MX/SOA, MTA-STS, TLS-RPT); refresh=1 re-runs it',
      params: DomainParam, querystring: Type.Object({ refresh: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])) }),
    },
  }, async (req) => core.compliance.checkDomain(principalOf(req).accountId, req.params.id, { refresh: req.query.refresh === '1' || req.query.refresh === 'true' }));

  const lintJson = Type.Object({
    message: Type.String({ minLength: 1, description: 'the raw message (RFC 5322), as text or base64' }),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    key: Type.Optional(Type.String({ maxLength: 10_000, description: 'verify DKIM with this public key (PEM, base64 p= or v=DKIM1 record) instead of DNS' })),
    category: Category,
  });
  app.post('/v1/lint', {
    config: { scope: 'read' }, bodyLimit: 30 * 1024 * 1024,
    schema: { tags: ['compliance'], summary: 'Lint a message against R-FMT-*, R-UNSUB-*, R-LIST-*, R-AUTH-6/7/8 and DMARC alignment', body: lintJson },
  }, async (req) => {
    const b = req.body;
    const raw = b.encoding === 'base64' ? Buffer.from(b.message, 'base64') : Buffer.from(b.message, 'utf8');
    return core.compliance.lint(raw, { key: b.key, category: b.category });
  });
  await app.register(async (scope) => {
    scope.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit: 30 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.post('/v1/lint/raw', {
      config: { scope: 'read' },
      schema: { tags: ['compliance'], summary: 'Lint raw message bytes (Content-Type: message/rfc822)', querystring: Type.Object({ key: Type.Optional(Type.String({ maxLength: 10_000 })), category: Category }) },
    }, async (req) => {
      const q = req.query as { key?: string; category?: 'subscription' | 'transactional' | 'auto' };
      return core.compliance.lint(req.body as Buffer, { key: q.key, category: q.category });
    });
  });

  app.get('/v1/compliance/volume', { config: { scope: 'read' }, schema: { tags: ['compliance'], summary: 'Volume per organisational domain × provider: rolling 24 h and per day', querystring: Days } },
    async (req) => core.compliance.volume(principalOf(req).accountId, req.query.days ?? 7));
  app.get('/v1/compliance/bulk-senders', { config: { scope: 'read' }, schema: { tags: ['compliance'], summary: 'Permanent bulk-sender flags (Gmail, Outlook.com)' } },
    async (req) => ({ items: await core.compliance.bulkSenders(principalOf(req).accountId) }));
  app.get('/v1/compliance/spam-rate', { config: { scope: 'read' }, schema: { tags: ['compliance'], summary: 'Complaints ÷ delivered per domain and day; paused streams', querystring: Days } },
    async (req) => core.compliance.spamRate(principalOf(req).accountId, req.query.days ?? 7));
  app.get('/v1/compliance/warmup', { config: { scope: 'read' }, schema: { tags: ['compliance'], summary: 'Warm-up ramp per sending domain and direct-MX IP' } },
    async (req) => core.compliance.warmup(principalOf(req).accountId));
  app.post('/v1/compliance/warmup/:domainId', {
    config: { scope: 'write' },
    schema: {
      tags: ['compliance'], summary: 'Backdate a domain\'s warm-up start (it already has a sending history elsewhere); who and why are recorded',
      params: Type.Object({ domainId: Type.String({ maxLength: 300 }) }),
      body: Type.Object({ started_at: Type.Integer({ minimum: 0 }), note: Type.String({ minLength: 3, maxLength: 2000 }) }),
    },
  }, async (req) => {
    const p = principalOf(req);
    return core.compliance.setWarmupStart(p.accountId, req.params.domainId, req.body.started_at, p.actor, req.body.note);
  });
  app.get('/v1/compliance/held', {
    config: { scope: 'read' },
    schema: { tags: ['compliance'], summary: 'Why a campaign\'s queued messages wait: held reason → count and earliest retry', querystring: Type.Object({ campaign_id: Type.String({ maxLength: 64 }) }) },
  }, async (req) => ({ campaign_id: req.query.campaign_id, held: await core.compliance.heldReasons(principalOf(req).accountId, req.query.campaign_id) }));
  app.post('/v1/compliance/streams/:domainId/resume', {
    config: { scope: 'write' },
    schema: {
      tags: ['compliance'], summary: 'Resume subscription mail paused by the spam-rate monitor (who and when are recorded)',
      params: Type.Object({ domainId: Type.String({ maxLength: 300 }) }), body: Type.Object({ note: Type.String({ minLength: 3, maxLength: 2000 }) }),
    },
  }, async (req) => {
    const p = principalOf(req);
    return core.compliance.resumeStream(p.accountId, req.params.domainId, p.actor, req.body.note);
  });
};
