import type { AttemptRecord, MessageRow } from '../store/messages-repo.js';

/** Why a message is held back and when it may be tried again; it stays queued, never fails. */
export interface Hold {
  /** Stable reason code shown in campaign progress, e.g. `warmup`, `hourly_cap:gmail`, `paused:spam_rate`, `stream_held`. */
  reason: string;
  retryAt: number;
}

/**
 * The compliance guard as the worker sees it (issue 6 items 4–6, R-BNC-4): asked once per claimed
 * batch before anything is transmitted, and told once per batch what happened.
 */
export interface SendGuard {
  /** Returns the rows to hold (by message row id); every other row is transmitted. */
  admit(rows: MessageRow[], now: number): Promise<Map<number, Hold>>;
  /** Called after the batch's attempts are committed (volume counters, spam-rate denominators). */
  recorded(rows: MessageRow[], records: AttemptRecord[], now: number): Promise<void>;
}

/** Several guards as one: the first hold found for a row wins; every guard sees every outcome. */
export function combineGuards(...guards: SendGuard[]): SendGuard {
  return {
    async admit(rows, now) {
      const out = new Map<number, Hold>();
      for (const g of guards) {
        const left = out.size ? rows.filter((r) => !out.has(Number(r.id))) : rows;
        if (!left.length) break;
        for (const [id, h] of await g.admit(left, now)) out.set(id, h);
      }
      return out;
    },
    async recorded(rows, records, now) {
      for (const g of guards) await g.recorded(rows, records, now);
    },
  };
}
