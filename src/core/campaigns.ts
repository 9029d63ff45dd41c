import type { Writable } from 'node:stream';
import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { parseMailbox } from '../domain/address.js';
import { validateExtraHeaders } from '../domain/headers.js';
import { campaignsRepo, type CampaignRow } from '../store/campaigns-repo.js';
import { messagesRepo } from '../store/messages-repo.js';
import { checkTemplateSyntax } from '../render/template-check.js';
import type { SendCollaborators } from './send-collaborators.js';
import { assertVisibleUnsubscribe } from '../compliance/preflight.js';
import { PREVIEW_UNSUBSCRIBE_URL } from '../render/preview-url.js';
import { unsubscribeBase } from './unsubscribe-base.js';
import { contentFromInput } from './content-source.js';

/** The body of `POST /v1/campaigns`. */
export interface CampaignInput {
  name: string;
  list_ids: string[];
  from: string;
  reply_to?: string | null;
  subject?: string;
  html?: string | null;
  text?: string | null;
  template_id?: string | null;
  headers?: Record<string, string>;
  scheduled_at?: number | null;
}

/**
 * Campaign states: draft → scheduled → planning → running → sent; paused and cancelled
 * from any non-final state. `plan_cursor` is the last planned contact id, 'done' at the end.
 */
export const FINAL = ['sent', 'cancelled'];
/** The states a resumed campaign can be in (scheduled until planned, then running). */
export const RESUMED = ['scheduled', 'planning', 'running'];

/** Campaigns to lists (issue 3 item 4): create, schedule, pause, resume, cancel, progress, report. */
export function campaignsCore(deps: Deps, collab: SendCollaborators) {
  const repo = campaignsRepo(deps.store);
  const msgs = messagesRepo(deps.store);
  const now = () => deps.clock.now();

  async function must(accountId: string, id: string): Promise<CampaignRow> {
    const c = await repo.get(accountId, id);
    if (!c) fail('E_NOT_FOUND', 'campaign not found');
    return c;
  }

  return {
    async create(accountId: string, input: CampaignInput) {
      if (!input.name || input.name.length > 200 || /[\r\n]/.test(input.name)) fail('E_VALIDATION', 'name: 1-200 characters');
      const from = parseMailbox(input.from, 'from');
      if (from.name && /[\r\n]/.test(from.name)) fail('E_HEADER_INJECTION');
      const domain = await collab.domains.findDomainForAddress(accountId, from.domain);
      if (!domain) fail('E_DOMAIN_UNVERIFIED', `from: ${from.domain} is not a domain of this account (R-AUTH-12)`);
      unsubscribeBase(deps.config, domain);
      const replyTo = input.reply_to ? parseMailbox(input.reply_to, 'reply_to') : null;
      const ids = [...new Set(input.list_ids ?? [])];
      if (!ids.length) fail('E_LIST_REQUIRED');
      const found = await repo.listsByIds(accountId, ids);
      if (found.length !== ids.length) fail('E_NOT_FOUND', 'list not found');
      const { subject, html, text } = await contentFromInput(deps.store, accountId, input);
      for (const [f, v] of Object.entries({ subject, html, text })) if (v) checkTemplateSyntax(f, v);
      const headers = validateExtraHeaders(input.headers ?? {});
      const content = {
        kind: 'api' as const, from: { name: from.name, address: from.address }, replyTo: replyTo?.address ?? null,
        to: [], cc: [], subject, html, text, data: {}, attachments: [], headers, category: 'subscription' as const, listId: ids[0],
      };
      const rendered = await collab.preview(content, { address: `preview@${from.domain}` });
      // A link hidden by CSS is no visible unsubscribe link (R-UNSUB-10, issue 6 item 2).
      assertVisibleUnsubscribe(rendered as { html: string | null; text: string | null }, 'subscription', PREVIEW_UNSUBSCRIBE_URL);
      const t = now();
      const row = {
        id: newId('cmp_'), account_id: accountId, name: input.name, status: 'draft', category: 'subscription',
        list_ids: JSON.stringify(ids), from_address: input.from, reply_to: replyTo?.address ?? null, subject, html, text,
        template_id: input.template_id ?? null, headers_json: JSON.stringify(headers), scheduled_at: input.scheduled_at ?? null,
        lease_owner: null, lease_until: null, plan_cursor: '0', planned: 0, created_at: t, updated_at: t, started_at: null, finished_at: null,
      };
      await repo.insert(row);
      if (input.scheduled_at !== undefined && input.scheduled_at !== null) return this.schedule(accountId, row.id, input.scheduled_at);
      return row;
    },
    get: must,
    list: (accountId: string, limit = 50, after?: string) => repo.list(accountId, limit, after),

    async schedule(accountId: string, id: string, at?: number | null) {
      const when = at ?? now();
      const c = await must(accountId, id);
      if (c.status === 'draft' || c.status === 'scheduled') {
        const from = parseMailbox(c.from_address, 'from');
        const domain = await collab.domains.findDomainForAddress(accountId, from.domain);
        await collab.preflight(accountId, { from: from.address, category: 'subscription', domainId: domain?.id ?? null });
      }
      if (!(await repo.transition(accountId, id, ['draft', 'scheduled'], { status: 'scheduled', scheduled_at: when, updated_at: now() }))) {
        await must(accountId, id);
        fail('E_STATE', 'only a draft or scheduled campaign can be scheduled');
      }
      return must(accountId, id);
    },
    async pause(accountId: string, id: string) {
      if (!(await repo.transition(accountId, id, ['scheduled', 'planning', 'running'], { status: 'paused', lease_owner: null, lease_until: null, updated_at: now() }))) {
        await must(accountId, id);
        fail('E_STATE', 'only a scheduled, planning or running campaign can be paused');
      }
      await msgs.setCampaignPending(id, ['queued', 'deferred'], 'paused', null, now(), ['paused']);
      return must(accountId, id);
    },
    async resume(accountId: string, id: string) {
      const c = await must(accountId, id);
      const next = c.plan_cursor === 'done' ? 'running' : 'scheduled';
      if (!(await repo.transition(accountId, id, ['paused'], { status: next, updated_at: now() }))) fail('E_STATE', 'only a paused campaign can be resumed');
      await msgs.setCampaignPending(id, ['paused'], 'queued', null, now(), RESUMED);
      return must(accountId, id);
    },
    async cancel(accountId: string, id: string) {
      const c = await must(accountId, id);
      if (FINAL.includes(c.status)) fail('E_STATE', `the campaign is already ${c.status}`);
      if (!(await repo.transition(accountId, id, [c.status], { status: 'cancelled', finished_at: now(), lease_owner: null, updated_at: now() }))) {
        fail('E_STATE', 'the campaign changed state; try again');
      }
      await msgs.setCampaignPending(id, ['queued', 'deferred', 'paused'], 'skipped', 'cancelled', now(), ['cancelled']);
      return must(accountId, id);
    },

    /** Progress: planned, counts by status, skipped by reason. */
    async progress(accountId: string, id: string) {
      const c = await must(accountId, id);
      const rows = await msgs.campaignCounts(accountId, id);
      const by_status: Record<string, number> = {};
      const skipped_by_reason: Record<string, number> = {};
      for (const r of rows) {
        by_status[r.status] = (by_status[r.status] ?? 0) + Number(r.n);
        if (r.status === 'skipped') skipped_by_reason[r.reason ?? 'unknown'] = (skipped_by_reason[r.reason ?? 'unknown'] ?? 0) + Number(r.n);
      }
      return {
        id: c.id, status: c.status, planned: Number(c.planned), planning_done: c.plan_cursor === 'done',
        sent: by_status.sent ?? 0, deferred: by_status.deferred ?? 0, bounced: by_status.bounced ?? 0, failed: by_status.failed ?? 0,
        queued: (by_status.queued ?? 0) + (by_status.sending ?? 0), paused: by_status.paused ?? 0,
        skipped: by_status.skipped ?? 0, skipped_by_reason, by_status,
      };
    },

    /** Streams the per-recipient report as CSV (keyset pages; flat memory). */
    async reportCsv(accountId: string, id: string, out: Writable): Promise<void> {
      await must(accountId, id);
      const { stringify } = await import('csv-stringify');
      const csv = stringify({ header: true, columns: ['message_id', 'recipient', 'status', 'reason', 'attempts', 'sent_at', 'last_reply'] });
      csv.pipe(out);
      let after = 0;
      for (;;) {
        const page = await msgs.list(accountId, { campaignId: id, after, limit: 2000 });
        for (const m of page) {
          const ok = csv.write([m.message_id, m.rcpt, m.status, m.reason ?? '', m.attempts, m.sent_at ? new Date(m.sent_at).toISOString() : '', m.last_reply ?? '']);
          if (!ok) await new Promise((r) => csv.once('drain', r));
        }
        if (page.length < 2000) break;
        after = Number(page[page.length - 1].id);
      }
      csv.end();
      await new Promise((r) => out.once('finish', r));
    },
  };
}
