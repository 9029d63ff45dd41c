import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

const Create = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  list_ids: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 50 }),
  from: Type.String({ minLength: 3, maxLength: 400 }),
  reply_to: Type.Optional(Type.Union([Type.String({ maxLength: 400 }), Type.Null()])),
  subject: Type.Optional(Type.String({ maxLength: 2000 })),
  html: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  template_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  scheduled_at: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
});

function publicCampaign(c: { id: string; name: string; status: string; list_ids: string; from_address: string; subject: string; scheduled_at: number | null; planned: number; created_at: number; started_at: number | null; finished_at: number | null }) {
  return {
    id: c.id, name: c.name, status: c.status, list_ids: JSON.parse(c.list_ids), from: c.from_address, subject: c.subject,
    scheduled_at: c.scheduled_at, planned: c.planned, created_at: c.created_at, started_at: c.started_at, finished_at: c.finished_at,
  };
}

/** Campaigns: create, schedule, pause, resume, cancel, progress and the CSV report. */
export const campaignRoutes: RouteModule = (app, { core }) => {
  app.post('/v1/campaigns', { config: { scope: 'write' }, schema: { tags: ["campaigns"], body: Create } },
    async (req, reply) => reply.status(201).send(publicCampaign(await core.campaigns.create(principalOf(req).accountId, req.body))));
  app.get('/v1/campaigns', {
    config: { scope: 'read' },
    schema: { tags: ['campaigns'], querystring: Type.Object({ after: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }) },
  }, async (req) => {
    const limit = req.query.limit ?? 50;
    const rows = await core.campaigns.list(principalOf(req).accountId, limit, req.query.after);
    return { items: rows.map(publicCampaign), next_cursor: rows.length === limit ? rows[rows.length - 1].id : null };
  });
  app.get('/v1/campaigns/:id', { config: { scope: 'read' }, schema: { tags: ['campaigns'], params: IdParams } },
    async (req) => publicCampaign(await core.campaigns.get(principalOf(req).accountId, req.params.id)));
  app.get('/v1/campaigns/:id/progress', { config: { scope: 'read' }, schema: { tags: ['campaigns'], params: IdParams } },
    async (req) => core.campaigns.progress(principalOf(req).accountId, req.params.id));
  app.get('/v1/campaigns/:id/report.csv', { config: { scope: 'read' }, schema: { tags: ['campaigns'], params: IdParams } },
    async (req, reply) => {
      const accountId = principalOf(req).accountId;
      await core.campaigns.get(accountId, req.params.id);
      const out = new PassThrough();
      core.campaigns.reportCsv(accountId, req.params.id, out).catch((err) => out.destroy(err));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${req.params.id}.csv"`).send(out);
    });
  app.post('/v1/campaigns/:id/schedule', {
    config: { scope: 'write' },
    schema: { tags: ['campaigns'], params: IdParams, body: Type.Optional(Type.Object({ at: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])) })) },
  }, async (req) => publicCampaign(await core.campaigns.schedule(principalOf(req).accountId, req.params.id, req.body?.at ?? null)));
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/v1/campaigns/:id/${action}`, { config: { scope: 'write' }, schema: { tags: ['campaigns'], params: IdParams } },
      async (req) => publicCampaign(await core.campaigns[action](principalOf(req).accountId, req.params.id)));
  }
};
