import { createHash } from 'node:crypto';
import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { validateExtraHeaders } from '../domain/headers.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import { messagesRepo, type MessageRow } from '../store/messages-repo.js';
import { idempotencyRepo } from '../store/idempotency-repo.js';
import { validateContentFields, validateRecipients, type MessageContent, type SendMessageInput } from './message-input.js';
import type { SendCollaborators } from './send-collaborators.js';
import { assertVisibleUnsubscribe } from '../compliance/preflight.js';
import { PREVIEW_UNSUBSCRIBE_URL } from '../render/preview-url.js';
import { unsubscribeBase } from './unsubscribe-base.js';
import { contentFromInput } from './content-source.js';

/** What `POST /v1/messages` answers: one entry per recipient. */
export interface SubmitResult {
  messages: Array<{ id: number; to: string; message_id: string; status: string; reason: string | null }>;
}

/** A Message-ID on the From domain, never reused (R-FMT-3). */
export function newMessageId(accountId: string, domain: string): string {
  return `<${newId()}.${accountId.slice(-6)}@${domain}>`;
}

/** Transactional and subscription mail through the API (issue 3 item 2). */
export function messagesCore(deps: Deps, collab: SendCollaborators) {
  const repo = messagesRepo(deps.store);
  const lists = campaignsRepo(deps.store);
  const idem = idempotencyRepo(deps.store);

  async function build(accountId: string, input: SendMessageInput) {
    const category = input.category;
    if (category !== 'subscription' && category !== 'transactional') fail('E_CATEGORY_REQUIRED');
    const rcpts = validateRecipients(input, category);
    const { from, replyTo, attachments } = validateContentFields(input, deps.config.limits);
    const domain = await collab.domains.findDomainForAddress(accountId, from.domain);
    if (!domain) fail('E_DOMAIN_UNVERIFIED', `from: ${from.domain} is not a domain of this account (R-AUTH-12)`);
    let listId: string | null = null;
    if (category === 'subscription') {
      unsubscribeBase(deps.config, domain);
      if (!input.list_id) fail('E_LIST_REQUIRED');
      const [l] = await lists.listsByIds(accountId, [input.list_id]);
      if (!l) fail('E_NOT_FOUND', 'list not found');
      listId = l.id;
      await collab.preflight(accountId, { from: from.address, category, domainId: domain.id });
    }
    const { subject, html, text } = await contentFromInput(deps.store, accountId, input);
    const headers = validateExtraHeaders(input.headers ?? {});
    const content: MessageContent = {
      kind: 'api', from: { name: from.name, address: from.address }, replyTo: replyTo ? replyTo.address : null,
      to: rcpts.to.map((a) => a.address), cc: rcpts.cc.map((a) => a.address), subject, html, text,
      data: input.data ?? {}, attachments, headers, category, listId,
    };
    // Reject templates that cannot render now rather than fail at send time.
    const rendered = await collab.preview(content, { address: rcpts.all[0].address });
    // A link hidden by CSS is no visible unsubscribe link (R-UNSUB-10, issue 6 item 2).
    assertVisibleUnsubscribe(rendered as { html: string | null; text: string | null }, category, PREVIEW_UNSUBSCRIBE_URL);
    return { content, rcpts: rcpts.all, domainId: domain.id, domainName: domain.name, category: category as 'subscription' | 'transactional', listId };
  }

  return {
    /** Validates, checks the suppression ledger, and queues one message row per recipient. */
    async submit(accountId: string, input: SendMessageInput, opts: { idempotencyKey?: string; actor?: string } = {}): Promise<SubmitResult> {
      const hash = createHash('sha256').update(JSON.stringify(input)).digest('base64url');
      if (opts.idempotencyKey) {
        if (opts.idempotencyKey.length > 200 || /[\r\n]/.test(opts.idempotencyKey)) fail('E_VALIDATION', 'Idempotency-Key: at most 200 characters');
        const prior = await idem.get(accountId, opts.idempotencyKey);
        if (prior) {
          if (prior.request_hash !== hash) fail('E_IDEMPOTENCY_MISMATCH');
          return JSON.parse(prior.response) as SubmitResult;
        }
      }
      const b = await build(accountId, input);
      const blocked = await collab.suppressions.checkBatch(accountId, b.rcpts.map((r) => r.key), { category: b.category, listId: b.listId });
      const now = deps.clock.now();
      const result = await deps.store.db.transaction().execute(async (tx) => {
        const txRepo = messagesRepo({ ...deps.store, db: tx });
        const contentId = await txRepo.insertContent(accountId, JSON.stringify(b.content), now);
        const rows = await txRepo.insertMessages(b.rcpts.map((r) => {
          const s = blocked.get(r.key);
          return {
            account_id: accountId, campaign_id: null, content_id: contentId, list_id: b.listId, contact_id: null,
            category: b.category, domain_id: b.domainId, from_address: b.content.from.address, rcpt: r.address, rcpt_key: r.key,
            data: null, message_id: newMessageId(accountId, b.domainName), status: s ? 'skipped' : 'queued',
            reason: s ? `suppressed:${s.reason}` : null, attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null,
            last_reply: null, created_at: now, updated_at: now, sent_at: null,
          };
        }));
        await txRepo.insertEvents(rows.map((m: MessageRow) => ({
          account_id: accountId, message_id: m.id, campaign_id: null, type: m.status, created_at: now,
          data: JSON.stringify(m.status === 'skipped' ? { reason: m.reason, scope: blocked.get(m.rcpt_key)?.scope } : { actor: opts.actor ?? null }),
        })));
        const res: SubmitResult = {
          messages: rows.map((m) => ({ id: Number(m.id), to: m.rcpt, message_id: m.message_id, status: m.status, reason: m.reason })),
        };
        if (opts.idempotencyKey) {
          await idempotencyRepo({ ...deps.store, db: tx }).insert({ account_id: accountId, key: opts.idempotencyKey, request_hash: hash, response: JSON.stringify(res), created_at: now });
        }
        return res;
      });
      return result;
    },
    async get(accountId: string, id: number) {
      const m = await repo.get(accountId, id);
      if (!m) fail('E_NOT_FOUND', 'message not found');
      return { ...m, events: await repo.events(accountId, id) };
    },
    list: repo.list,
  };
}
