import type { Deps } from '../app/deps.js';
import { isTegamiError } from '../domain/errors.js';
import type { SendCollaborators } from '../core/send-collaborators.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import { messagesRepo, notAnAttempt, type AttemptRecord, type MessageRow } from '../store/messages-repo.js';
import type { DeliveryResult, Transport } from '../transport/types.js';
import { localRetryDelayMs, nextAttemptDelayMs, retriesExhausted } from './backoff.js';
import { withKeptLease, type LeaseKeeper } from './lease-keeper.js';
import type { MessageBuilder } from './message-builder.js';
import { runPool } from './pool.js';
import type { BounceOutcome } from '../core/bounces.js';

/** The lease token of a worker's n-th claim: `lease_owner` of the rows it claimed. */
export const claimToken = (owner: string, n: number) => `${owner}/${n}`;
/** Whether a `lease_owner` is one of this worker's claims. */
export const isClaimOf = (owner: string, leaseOwner: string | null) => !!leaseOwner?.startsWith(`${owner}/`);

/** Counters of one worker, for metrics and tests. */
export interface WorkerStats {
  claimed: number;
  sent: number;
  deferred: number;
  failed: number;
  skipped: number;
}

/**
 * The sending worker (issue 3 item 8): claims due messages in batches under a lease, re-checks
 * the suppression ledger for the batch immediately before transmitting, renders and signs,
 * transmits, and records every attempt as an event in one transaction per batch.
 *
 * Each claim leases its rows under a token of its own (`owner/n`), renewed while the batch is in
 * flight (lease-keeper.ts): lanes of one process and workers of many fence each other by it.
 */
export function createWorker(deps: Deps, collab: SendCollaborators, builder: MessageBuilder, transport: Transport, owner: string,
  /** Told every recorded batch (metrics). */
  onRecorded: (records: AttemptRecord[]) => void = () => {}) {
  const repo = messagesRepo(deps.store);
  const campaigns = campaignsRepo(deps.store);
  const { batchSize, leaseSeconds, concurrency, retryHours } = deps.config.worker;
  const stats: WorkerStats = { claimed: 0, sent: 0, deferred: 0, failed: 0, skipped: 0 };
  const leaseMs = leaseSeconds * 1000;
  let claims = 0;
  /** Lease tokens of claims whose outcome is not recorded (a tick that failed): given back at stop. */
  const unrecorded = new Set<string>();
  /** Set by {@link beginStop}: batches in flight start no more transmissions. */
  let stopping = false;

  /** Suppression re-check for the batch: one query per (account, category, list) group. */
  async function recheck(rows: MessageRow[]): Promise<Map<number, { reason: string; sinceMs: number }>> {
    const groups = new Map<string, MessageRow[]>();
    for (const r of rows) {
      const g = `${r.account_id}|${r.category}|${r.category === 'subscription' ? r.list_id ?? '' : ''}`;
      const list = groups.get(g);
      if (list) list.push(r);
      else groups.set(g, [r]);
    }
    const out = new Map<number, { reason: string; sinceMs: number }>();
    for (const g of groups.values()) {
      const first = g[0];
      const blocked = await collab.suppressions.checkBatch(first.account_id, [...new Set(g.map((r) => r.rcpt_key))], {
        category: first.category as 'subscription' | 'transactional', listId: first.category === 'subscription' ? first.list_id : null,
      });
      for (const r of g) {
        const b = blocked.get(r.rcpt_key);
        if (b) out.set(Number(r.id), { reason: `suppressed:${b.reason}`, sinceMs: b.createdAt ? deps.clock.now() - b.createdAt : 0 });
      }
    }
    return out;
  }

  function outcome(row: MessageRow, res: DeliveryResult, now: number): AttemptRecord {
    const attempt = row.attempts + 1;
    const data = {
      attempt, worker: owner, reply: res.reply, code: res.code, enhanced: res.enhanced, mx: res.mx, tls: res.tls,
      class: res.classification.class, rule: res.classification.ruleId, duration_ms: res.durationMs,
    };
    const ev = (type: string, extra: object = {}) => ({
      account_id: row.account_id, message_id: row.id, campaign_id: row.campaign_id, type, created_at: now, data: JSON.stringify({ ...data, ...extra }),
    });
    if (res.status === 'sent') return { id: row.id, status: 'sent', reason: null, lastReply: res.reply, event: ev('sent') };
    if (res.status === 'deferred') {
      if (retriesExhausted(row.created_at, now, retryHours)) {
        return { id: row.id, status: 'failed', reason: 'retries_exhausted', lastReply: res.reply, event: ev('failed', { reason: 'retries_exhausted' }) };
      }
      const next = now + (res.classification.ruleId === 'local-error' ? localRetryDelayMs(attempt) : nextAttemptDelayMs(attempt));
      return { id: row.id, status: 'deferred', reason: res.classification.class, lastReply: res.reply, nextAttemptAt: next, event: ev('deferred', { next_attempt_at: next }) };
    }
    // 5xx is final (R-BNC-1); address-class codes are bounces, the rest failures.
    const bounced = res.classification.class === 'hard_bounce' || res.classification.class === 'mailbox_full';
    return { id: row.id, status: bounced ? 'bounced' : 'failed', reason: res.classification.class, lastReply: res.reply, event: ev(bounced ? 'bounced' : 'failed') };
  }

  /** A message not transmitted, with its `skipped` event (campaign cancelled, recipient suppressed). */
  function skippedAtSend(row: MessageRow, reason: string, extra: object = {}): AttemptRecord {
    return { id: row.id, status: 'skipped', reason, lastReply: null, event: {
      account_id: row.account_id, message_id: row.id, campaign_id: row.campaign_id, type: 'skipped', created_at: deps.clock.now(),
      data: JSON.stringify({ reason, at: 'send', ...extra }),
    } };
  }

  async function transmit(row: MessageRow): Promise<DeliveryResult> {
    try {
      const built = await builder.build(row);
      try {
        return await transport.send({ accountId: row.account_id, messageRowId: Number(row.id), envelope: built.envelope, raw: built.raw });
      } finally {
        // The transport resolves once the next hop answered the data: the bytes are no longer read.
        built.release?.();
      }
    } catch (err) {
      deps.log.error({ err, message: row.id, account: row.account_id }, 'could not build or send a message');
      // A message that cannot be built (bad template, refused header) will not build later either.
      const permanent = isTegamiError(err) && (err.kind === 'invalid' || err.kind === 'unprocessable');
      return {
        status: permanent ? 'failed' : 'deferred', reply: `local error: ${(err as Error).message}`.slice(0, 500), code: null, enhanced: null, mx: null, tls: false,
        classification: { class: 'unknown', permanent, suppress: false, holdStream: false, ruleId: permanent ? `local:${(err as { code: string }).code}` : 'local-error' }, durationMs: 0,
      };
    }
  }

  /** Feeds the replies to the bounce pipeline: deliveries reset soft counts, bounces suppress or count, sender faults hold. */
  async function afterAttempts(sent: MessageRow[], results: DeliveryResult[]) {
    const delivered = new Map<string, string[]>();
    const outcomes: BounceOutcome[] = [];
    sent.forEach((row, i) => {
      const res = results[i];
      if (res.status === 'sent') {
        const keys = delivered.get(row.account_id);
        if (keys) keys.push(row.rcpt_key);
        else delivered.set(row.account_id, [row.rcpt_key]);
      }
      else if (res.code !== null && (res.status === 'failed' || res.classification.holdStream || res.classification.class === 'rate_limited')) {
        outcomes.push({
          accountId: row.account_id, message: row, address: row.rcpt, kind: 'bounce', source: 'smtp', status: res.enhanced,
          diagnostic: res.reply, classification: res.classification, messageFinal: true,
        });
      }
    });
    for (const [acc, keys] of delivered) await collab.bounces.delivered(acc, keys);
    if (outcomes.length) await collab.bounces.apply(outcomes);
  }

  /**
   * The batch was transmitted: its outcome must be recorded, or the batch is sent again once
   * another claim takes it over. A database outage (restart, failover, cut connection) is
   * retried with back-off (at most 5 s between tries) for as long as it lasts, while the lease
   * keeper keeps trying to renew the lease: when the database answers again, the renewal and the
   * record land first unless another worker claimed the batch before, which needs an outage
   * longer than the lease (issue 11). It gives up only when every row was taken over (nothing
   * left to record), or when the process stops (the stop's own deadline).
   */
  async function recordWithRetry(token: string, now: number, records: AttemptRecord[], allLost: () => boolean): Promise<void> {
    for (let tries = 1, delay = 250; ; tries++, delay = Math.min(delay * 2, 5000)) {
      try {
        return await repo.recordAttempts(token, now, records);
      } catch (err) {
        if (allLost()) throw err;
        // Every failure at first, then one line per ten, so a long outage does not flood the log.
        if (tries <= 3 || tries % 10 === 0) deps.log.warn({ err, owner: token, records: records.length, tries, retryInMs: delay }, 'recording a sent batch failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  return {
    stats,
    /** Processes one batch; returns how many messages it claimed. */
    async tick(): Promise<number> {
      if (stopping) return 0; // nothing new is claimed once a stop began
      const token = claimToken(owner, ++claims);
      const claimedAt = deps.clock.now();
      const claimed = await repo.claimDue(token, claimedAt, leaseMs, batchSize);
      if (!claimed.length) return 0;
      stats.claimed += claimed.length;
      unrecorded.add(token);
      await withKeptLease({ store: deps.store, table: 'messages', token, ids: claimed.map((r) => Number(r.id)), claimedAt, leaseMs, clock: deps.clock, log: deps.log },
        (keeper) => processBatch(token, claimed, keeper));
      unrecorded.delete(token);
      return claimed.length;
    },
    /**
     * A graceful stop begins (SIGTERM): the batches in flight finish the transmissions already on
     * the wire, start no others and give their other rows back with their outcome, so a stop takes
     * as long as the slowest transmission in flight, not the rest of a batch.
     */
    beginStop(): void {
      stopping = true;
    },
    /** Gives back leases of claims this worker did not record (graceful stop). */
    async release(): Promise<number> {
      const n = await repo.releaseLeases([...unrecorded], deps.clock.now());
      unrecorded.clear();
      return n;
    },
  };

  /**
   * One claimed batch: state and suppression re-checks, the guard, transmission of the rows whose
   * lease still holds (`keeper.mayStart`), and one recorded transaction for every outcome.
   */
  async function processBatch(token: string, claimed: MessageRow[], keeper: LeaseKeeper): Promise<void> {
    const records: AttemptRecord[] = [];
    // The campaign's state is checked at transmit time too: a message claimed before its
    // campaign was paused or cancelled and deferred after it, or left queued by a pause or
    // cancel that stopped half-way, is never transmitted (it waits in `paused`, or is skipped).
    const stopped = await campaigns.stopped([...new Set(claimed.map((r) => r.campaign_id).filter((c): c is string => c !== null))]);
    const live: MessageRow[] = [];
    for (const r of claimed) {
      const st = r.campaign_id === null ? undefined : stopped.get(r.campaign_id);
      if (st === undefined) live.push(r);
      else if (st === 'paused') records.push({ id: r.id, status: 'paused', reason: null, lastReply: null, event: null });
      else records.push(skippedAtSend(r, 'cancelled'));
    }
    const skipped = await recheck(live);
    const toSend: MessageRow[] = [];
    const candidates = live.filter((r) => !skipped.has(Number(r.id)));
    const holds = await collab.guard.admit(candidates, deps.clock.now());
    for (const r of live) {
      const skip = skipped.get(Number(r.id));
      const hold = holds.get(Number(r.id));
      if (hold && !skip) records.push({ id: r.id, status: 'held', reason: hold.reason, lastReply: null, nextAttemptAt: hold.retryAt, event: null });
      else if (!skip) toSend.push(r);
      else records.push(skippedAtSend(r, skip.reason, { since_block_ms: skip.sinceMs }));
    }
    await builder.prefetch(toSend);
    // A row is not transmitted once the worker is stopping, or when its lease was lost or ran out.
    const results = await runPool(toSend, concurrency, async (row) => (!stopping && (await keeper.mayStart(Number(row.id))) ? transmit(row) : null));
    const now = deps.clock.now();
    const sent: MessageRow[] = [];
    const delivered: DeliveryResult[] = [];
    toSend.forEach((row, i) => {
      const result = results[i];
      if (result) {
        sent.push(row);
        delivered.push(result);
        records.push(outcome(row, result, now));
      } else if (!keeper.lost.has(Number(row.id))) {
        // Not transmitted and still this claim's: back to the queue now (another claim's are its own).
        records.push({ id: row.id, status: 'released', reason: null, lastReply: null, event: null });
      }
    });
    try {
      await recordWithRetry(token, now, records, () => keeper.lost.size === claimed.length);
    } catch (err) {
      // Not recorded: the batch is claimed again once its lease ends. Its reservations in the
      // guard end here, and nothing is counted for it yet.
      await collab.guard.recorded(live, [], now).catch(() => {});
      throw err;
    }
    onRecorded(records);
    await collab.guard.recorded(live, records, now);
    for (const r of records) if (!notAnAttempt(r.status)) stats[r.status === 'bounced' ? 'failed' : r.status]++;
    await afterAttempts(sent, delivered);
  }
}

/** The worker's type. */
export type Worker = ReturnType<typeof createWorker>;
