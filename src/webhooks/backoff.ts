/**
 * Retry delays after the 1st, 2nd, … failed attempt: the Standard Webhooks / Svix schedule
 * (5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h), cut off at the end of the retry window.
 */
const DELAYS_S = [5, 300, 1800, 7200, 18_000, 36_000];

/** When to try again after `attempts` failures, or null once the window (default 24 h) is over. */
export function nextRetryAt(windowStart: number, now: number, attempts: number, retryHours: number): number | null {
  const end = windowStart + retryHours * 3_600_000;
  if (now >= end) return null;
  const delay = (DELAYS_S[attempts - 1] ?? DELAYS_S[DELAYS_S.length - 1]) * 1000;
  // The last attempt lands exactly at the end of the window, so a receiver gets the full 24 h.
  return Math.min(now + delay, end);
}
