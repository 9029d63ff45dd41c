/**
 * Per-credential token buckets (issue 7 item 1): `perMinute` messages a minute with a burst of
 * the same size. In-process: each relay process enforces the limit for the sessions it serves.
 */
export function createRateLimiter(now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Takes one token; false when the credential is over its rate. */
    take(key: string, perMinute: number): boolean {
      const t = now();
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + ((t - b.at) * perMinute) / 60_000);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}
