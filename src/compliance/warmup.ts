import type { Config } from '../config/schema.js';

const DAY = 86_400_000;

/**
 * Daily cap of a subject that started warming up at `startedAt` (R-VOL-1, seed 004: "50–100 a day,
 * rising to about 1,000 over 7–10 days"): a geometric ramp from warmupStartPerDay on day 0 to
 * warmupTargetPerDay on the last day; null once the ramp is over (no warm-up cap).
 * A subject that never sent (startedAt null) is on day 0.
 */
export function warmupCap(c: Config['compliance'], startedAt: number | null, now: number): number | null {
  const day = startedAt === null ? 0 : Math.max(0, Math.floor((now - startedAt) / DAY));
  if (day >= c.warmupDays) return null;
  if (c.warmupDays === 1) return c.warmupTargetPerDay;
  const ratio = c.warmupTargetPerDay / c.warmupStartPerDay;
  return Math.round(c.warmupStartPerDay * ratio ** (day / (c.warmupDays - 1)));
}

/** The whole schedule, for the API: cap per day index. */
export function warmupSchedule(c: Config['compliance']): number[] {
  return Array.from({ length: c.warmupDays }, (_, i) => warmupCap(c, 0, i * DAY) as number);
}

/** Warm-up day index of a subject (0 on its first day). */
export function warmupDay(startedAt: number | null, now: number): number {
  return startedAt === null ? 0 : Math.max(0, Math.floor((now - startedAt) / DAY));
}

/** The sending IPs that warm up: only under direct MX delivery (a smarthost warms its own IPs). */
export function warmupIps(config: Config): string[] {
  if (config.transport.kind !== 'mx') return [];
  return config.dns.sendingIps.split(',').map((s) => s.trim()).filter(Boolean);
}
