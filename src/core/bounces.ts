import type { Deps } from '../app/deps.js';
import type { Classification } from '../bounce/classify.js';
import { tryParseAddress } from '../domain/address.js';
import { providerOf } from '../compliance/providers.js';
import { fail } from '../domain/errors.js';
import { bouncesRepo } from '../store/bounces-repo.js';
import type { MessageRow } from '../store/messages-repo.js';
import { raiseAlert } from './alerts.js';
import { recordComplaint } from '../compliance/spam-rate.js';
import type { Hold, SendGuard } from '../send/guard.js';
import type { SendCollaborators } from './send-collaborators.js';

/** What happened to one recipient, from any source: an SMTP reply, a DSN, an ARF report, a provider webhook. */
export interface BounceOutcome {
  accountId: string;
  /** The message it is about, when it could be matched. */
  message: MessageRow | null;
  address: string;
  /**
   * `feedback`: an ARF report that is no complaint (not-spam, auth-failure); `unsubscribe`: an
   * ARF opt-out (RFC 6650); `delivery`: a success DSN or a provider's delivered event.
   */
  kind: 'bounce' | 'complaint' | 'autoreply' | 'delay' | 'feedback' | 'unsubscribe' | 'delivery';
  /** smtp (synchronous reply), dsn, arf, ses, sendgrid, postmark, mailgun. */
  source: string;
  status: string | null;
  diagnostic: string | null;
  classification: Classification;
  feedbackType?: string | null;
  rawId?: number | null;
  /** The message row is already final (synchronous path): do not rewrite its status. */
  messageFinal?: boolean;
}

/** What tegami did about an outcome (the `action` column of the log). */
export type BounceAction = 'suppressed' | 'counted' | 'held' | 'throttled' | 'recorded' | 'ignored';

/** How soon held messages are looked at again (a released hold takes effect within this time). */
const HOLD_RECHECK_MS = 5 * 60_000;

/** Minutes a 4.7.28-style rate limit pauses that provider for the sending domain (R-BNC-3). */
const THROTTLE_MS = 15 * 60_000;

/**
 * The one place bounce and complaint outcomes turn into ledger entries, counts and holds
 * (issue 5 items 3–4): hard → suppress at once (R-BNC-2); soft → counted, N in a row with no
 * delivery between → soft_bounce_limit; sender-side classes never touch the recipient but hold
 * the domain's subscription stream and alert (R-BNC-4); rate limits throttle the provider (R-BNC-3);
 * complaints suppress account-wide (R-FBL-*) and count toward the spam rate.
 */
export function bouncesCore(deps: Deps, suppressions: SendCollaborators['suppressions']) {
  const repo = bouncesRepo(deps.store);

  async function suppress(o: BounceOutcome, reason: string, note: string | null) {
    await suppressions.add(o.accountId, [{ address: o.address, scope: 'account', reason, note: note ?? undefined }], {
      source: `${o.kind}:${o.source}${o.message ? `:message:${o.message.id}` : ''}`,
    });
  }

  async function hold(o: BounceOutcome, stream: string, until: number | null): Promise<void> {
    if (!o.message?.domain_id) return;
    const now = deps.clock.now();
    const opened = await repo.openHold({
      account_id: o.accountId, domain_id: o.message.domain_id, stream, reason: o.classification.class,
      rule_id: o.classification.ruleId, detail: (o.diagnostic ?? o.status ?? '').slice(0, 500), message_id: o.message.id,
      created_at: now, until, released_at: null, released_by: null,
    });
    if (opened) {
      await raiseAlert(deps, o.accountId, stream === 'subscription' ? 'stream_held' : 'provider_throttled', {
        domain_id: o.message.domain_id, stream, rule: o.classification.ruleId, status: o.status, diagnostic: o.diagnostic?.slice(0, 300) ?? null,
      }, o.message.campaign_id);
    }
  }

  async function decide(o: BounceOutcome): Promise<BounceAction> {
    if (o.kind === 'autoreply' || o.kind === 'delay' || o.kind === 'feedback') return 'ignored';
    if (o.kind === 'delivery') {
      await repo.resetSoft(o.accountId, [keyOf(o.address)]);
      return 'recorded';
    }
    if (o.kind === 'unsubscribe') {
      const listId = o.message?.category === 'subscription' ? o.message.list_id : null;
      await suppressions.add(o.accountId, [{ address: o.address, scope: listId ? 'list' : 'account', listId: listId ?? undefined, reason: 'unsubscribe', note: 'ARF opt-out report' }], {
        source: `unsubscribe:${o.source}${o.message ? `:message:${o.message.id}` : ''}`,
      });
      return 'suppressed';
    }
    if (o.kind === 'complaint') {
      await suppress(o, 'complaint', o.feedbackType ? `feedback-type: ${o.feedbackType}` : null);
      return 'suppressed';
    }
    const c = o.classification;
    // Only an explicit provider rate limit throttles the stream; a greylisting 4.7.0 is just retried.
    if (c.class === 'rate_limited' && (/\.7\.28$/.test(o.status ?? '') || c.ruleId === 'gmail-rate' || c.ruleId === 'gmail-rcpt-rate')) {
      await hold(o, `provider:${providerOf(o.address)}`, deps.clock.now() + THROTTLE_MS);
      return 'throttled';
    }
    if (c.class === 'rate_limited') return 'recorded';
    if (c.holdStream) {
      await hold(o, 'subscription', null);
      return 'held';
    }
    if (c.suppress) {
      await suppress(o, 'hard_bounce', o.diagnostic ?? o.status);
      await repo.resetSoft(o.accountId, [keyOf(o.address)]);
      return 'suppressed';
    }
    if (c.class === 'soft_bounce' || c.class === 'mailbox_full') {
      const n = await repo.bumpSoft(o.accountId, keyOf(o.address), deps.clock.now());
      if (n >= deps.config.bounces.softBounceLimit) {
        await suppress(o, 'soft_bounce_limit', `${n} soft bounces in a row; last: ${o.diagnostic ?? o.status ?? ''}`.slice(0, 500));
        await repo.resetSoft(o.accountId, [keyOf(o.address)]);
        return 'suppressed';
      }
      return 'counted';
    }
    return 'recorded';
  }

  /**
   * Held streams (R-BNC-4) and provider throttles (R-BNC-3) as a send guard: their messages stay
   * queued and are looked at again in a few minutes. One query per batch.
   */
  const holdsGuard: SendGuard = {
    async admit(rows, now) {
      const out = new Map<number, Hold>();
      const domainIds = [...new Set(rows.map((r) => r.domain_id).filter((d): d is string => !!d))];
      const holds = await repo.activeHolds(domainIds, now);
      if (!holds.length) return out;
      for (const r of rows) {
        const h = holds.find((x) => x.domain_id === r.domain_id && x.account_id === r.account_id
          && (x.stream === 'subscription' ? r.category === 'subscription' : x.stream === `provider:${providerOf(r.rcpt)}`));
        if (!h) continue;
        out.set(Number(r.id), {
          reason: h.stream === 'subscription' ? `stream_held:${h.rule_id ?? h.reason}` : `throttled:${h.stream.slice('provider:'.length)}`,
          retryAt: Math.min(h.until ?? Infinity, now + HOLD_RECHECK_MS),
        });
      }
      return out;
    },
    async recorded() {},
  };

  return {
    repo,
    holdsGuard,

    /** Applies outcomes in order and logs each; returns the action taken for each. */
    async apply(outcomes: BounceOutcome[]): Promise<BounceAction[]> {
      const actions: BounceAction[] = [];
      const now = deps.clock.now();
      for (const o of outcomes) {
        const action = await decide(o);
        actions.push(action);
        await repo.insertEvents([{
          account_id: o.accountId, message_id: o.message?.id ?? null, campaign_id: o.message?.campaign_id ?? null,
          kind: o.kind, source: o.source, address: o.address, address_key: keyOf(o.address), status: o.status,
          class: o.kind === 'complaint' ? 'complaint' : o.classification.class, action, rule_id: o.classification.ruleId,
          diagnostic: o.diagnostic?.slice(0, 2000) ?? null, feedback_type: o.feedbackType ?? null, raw_id: o.rawId ?? null, created_at: now,
        }]);
        if (o.message && !o.messageFinal && (o.kind === 'bounce' || o.kind === 'complaint')) await markMessage(o, action, now);
        // Complaints count toward the sending domain's spam rate (issue 6 item 5, R-CMPL-1).
        if (o.kind === 'complaint' && o.message) await recordComplaint(deps, o.accountId, o.message, now);
      }
      return actions;
    },

    /** A delivery ends each recipient's run of soft bounces (issue 5 item 3). */
    async delivered(accountId: string, addressKeys: string[]): Promise<void> {
      if (addressKeys.length) await repo.resetSoft(accountId, addressKeys);
    },

    list: (accountId: string, f: { address?: string; kind?: string; cls?: string; before?: number; limit?: number }) =>
      repo.listEvents(accountId, { addressKey: f.address ? keyOf(f.address) : undefined, kind: f.kind, cls: f.cls, before: f.before, limit: Math.min(f.limit ?? 50, 500) }),
    async get(accountId: string, id: number) {
      const e = await repo.getEvent(accountId, id);
      if (!e) fail('E_NOT_FOUND', 'no such bounce or complaint');
      return e;
    },
    async raw(accountId: string, rawId: number) {
      const r = await repo.getRaw(accountId, rawId);
      if (!r) fail('E_NOT_FOUND', 'no such raw report');
      return r;
    },
    roleMail: (accountId: string, before: number | undefined, limit: number) => repo.listRoleMail(accountId, before, limit),
    async roleMailRaw(accountId: string, id: number) {
      const rawId = await repo.roleMailRawId(accountId, id);
      if (rawId === null) fail('E_NOT_FOUND', 'no such message');
      return (await this.raw(accountId, Number(rawId))).raw;
    },
    roleForwardTo: (accountId: string) => repo.roleForwardTo(accountId),
    setRoleForwardTo: (accountId: string, to: string | null) => repo.setRoleForwardTo(accountId, to, deps.clock.now()),
    softCount: (accountId: string, address: string) => repo.softCount(accountId, keyOf(address)),
    holds: (accountId: string, includeReleased = false) => repo.listHolds(accountId, includeReleased),
    async releaseHold(accountId: string, id: number, by: string) {
      if (!(await repo.releaseHold(accountId, id, by, deps.clock.now()))) fail('E_NOT_FOUND', 'no such open hold');
    },
  };

  /** An asynchronous bounce or complaint updates the message it belongs to and adds its event. */
  async function markMessage(o: BounceOutcome, action: BounceAction, now: number) {
    const m = o.message!;
    const type = o.kind === 'complaint' ? 'complained' : 'bounced';
    await repo.reportOnMessage(m, {
      type, now,
      bounced: o.kind === 'bounce' && o.classification.permanent ? { reason: o.classification.class, lastReply: (o.diagnostic ?? o.status ?? '').slice(0, 500) } : null,
      data: JSON.stringify({
        source: o.source, address: o.address, status: o.status, class: o.classification.class, rule: o.classification.ruleId,
        action, feedback_type: o.feedbackType ?? null, diagnostic: o.diagnostic?.slice(0, 500) ?? null, raw_id: o.rawId ?? null,
      }),
    });
  }
}

/** The canonical ledger key of an address (unparseable text: lower-cased, like the ledger does). */
function keyOf(address: string): string {
  const p = tryParseAddress(address);
  return p.ok ? p.value.key : address.trim().toLowerCase();
}

/** The bounces core's type. */
export type BouncesCore = ReturnType<typeof bouncesCore>;
