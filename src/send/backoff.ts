/**
 * Retry schedule for 4xx replies (R-BNC-3, RFC 5321 §4.5.4.1): at least 30 minutes between
 * attempts (the first retry is sooner because greylisting clears in minutes), doubling up to
 * 4 hours, and giving up after `retryHours` (default 120 h ≥ the 4-5 days RFC 5321 asks).
 */
export function nextAttemptDelayMs(attempt: number): number {
  const minutes = attempt <= 1 ? 10 : Math.min(240, 30 * 2 ** (attempt - 2));
  return minutes * 60_000;
}

/**
 * Retry delay after a local error (the message could not be built or handed to the transport:
 * typically a database blip): nobody else was asked, so no receiver's backoff applies; try again
 * soon (30 s per attempt, at most 10 minutes) instead of waiting out the 4xx schedule.
 */
export function localRetryDelayMs(attempt: number): number {
  return Math.min(10 * 60_000, 30_000 * Math.max(1, attempt));
}

/** True when a message first queued at `createdAt` has been retried long enough. */
export function retriesExhausted(createdAt: number, now: number, retryHours: number): boolean {
  return now - createdAt >= retryHours * 3_600_000;
}
