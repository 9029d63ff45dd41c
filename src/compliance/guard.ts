import type { Deps } from '../app/deps.js';
import { raiseAlert } from '../core/alerts.js';
import type { Hold, SendGuard } from '../send/guard.js';
import { complianceCountersRepo, type HourlyIncrement } from '../store/compliance-counters-repo.js';
import { complianceStreamsRepo } from '../store/compliance-streams-repo.js';
import type { AttemptRecord, MessageRow } from '../store/messages-repo.js';
import { isTestDomain } from './preflight.js';
import { dayOf, hourOf, orgDomainOf, providerOf } from './providers.js';
import { recordDeliveries } from './spam-rate.js';
import { warmupCap, warmupDay, warmupIps } from './warmup.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The first hour bucket of the rolling 24 hours ending now. */
export const windowStart = (now: number) => hourOf(now) - 23 * HOUR;

/**
 * The compliance guard (issue 6 items 4–6): spam-rate pauses of subscription mail (R-CMPL-1) first, then the warm-up ramp per new sending domain and per IP under direct MX
 * delivery (R-VOL-1) and the per-provider hourly caps (R-VOL-2). Held messages stay queued with
 * the reason; nothing fails. Test domains skip warm-up and caps (their mail is not for real receivers).
 */
export function complianceGuard(deps: Deps): SendGuard {
  const counters = complianceCountersRepo(deps.store);
  const streams = complianceStreamsRepo(deps.store);
  const c = () => deps.config.compliance;
  const started = new Set<string>();
  const flagged = new Set<string>();
  const recent = new Map<string, { n: number; at: number }>();
  /**
   * Allowance this process admitted but has not recorded yet: the rows of a batch still
   * transmitting in another lane (worker.lanes). Admitting subtracts it, so lanes of one process
   * never overshoot a warm-up or hourly cap between them. The worker ends a batch's entries when
   * it is recorded, or when recording failed (`recorded` with no records); a batch keeps its
   * lease while it transmits (send/lease-keeper.ts), so its age says nothing about it.
   */
  const inFlight = new Map<number, string[]>();
  function inFlightByKey(): Map<string, number> {
    const out = new Map<string, number>();
    for (const keys of inFlight.values()) for (const k of keys) out.set(k, (out.get(k) ?? 0) + 1);
    return out;
  }

  /** Test domains among these ids; domain rows cached for 30 s (a test-mode change applies within that). */
  const domainCache = new Map<string, { test: boolean; at: number }>();
  async function testDomains(ids: string[], now: number): Promise<Set<string>> {
    const stale = ids.filter((id) => { const e = domainCache.get(id); return !e || Math.abs(now - e.at) > 30_000; });
    for (const d of await streams.domains(stale)) domainCache.set(d.id, { test: isTestDomain(d, deps.config), at: now });
    return new Set(ids.filter((id) => domainCache.get(id)?.test));
  }

  async function admit(rows: MessageRow[], now: number): Promise<Map<number, Hold>> {
    const out = new Map<number, Hold>();
    if (!rows.length) return out;
    const accounts = [...new Set(rows.map((r) => r.account_id))];
    const domainIds = [...new Set(rows.map((r) => r.domain_id).filter((d): d is string => !!d))];
    const [testDomain, holds] = await Promise.all([testDomains(domainIds, now), streams.active(accounts)]);
    const held = new Map(holds.map((h) => [`${h.account_id}|${h.domain_id}|${h.kind}`, h]));
    const nextHour = hourOf(now) + HOUR;
    // Sender-configuration holds (R-BNC-4, reason `stream_held`) are the bounce pipeline's; the worker applies them.
    const live = rows.filter((r) => {
      const spam = r.category === 'subscription' ? held.get(`${r.account_id}|${r.domain_id}|spam_rate`) : undefined;
      if (spam) out.set(Number(r.id), { reason: 'paused:spam_rate', retryAt: now + HOUR });
      return !spam && !(r.domain_id && testDomain.has(r.domain_id));
    });
    if (!live.length) return out;

    // Remaining allowance per warm-up subject (rolling 24 h) and per provider this hour.
    const liveDomains = [...new Set(live.map((r) => r.domain_id).filter((d): d is string => !!d))];
    const ips = warmupIps(deps.config);
    const subjects = liveDomains.map((d) => `domain:${d}`);
    const [warmups, domainSent, ipStarted, ipSent, hourSent] = await Promise.all([
      streams.warmups(accounts, subjects),
      counters.sums('domain', accounts, liveDomains, windowStart(now)),
      ips.length ? streams.warmups(['*'], ips.map((ip) => `ip:${ip}`)) : Promise.resolve([]),
      ips.length ? counters.sums('ip', ['*'], ['pool'], windowStart(now)) : Promise.resolve([]),
      counters.sums('org', accounts, [...new Set(live.map((r) => orgDomainOf(r.from_address)))], hourOf(now)),
    ]);
    const startOf = new Map(warmups.map((s) => [`${s.account_id}|${s.subject}`, Number(s.started_at)]));
    const left = new Map<string, number>();
    // When a spent allowance grows again: the oldest counted hour leaves the window, or the ramp's next day starts.
    const freesAt = new Map<string, number>();
    const nextDay = (start: number | null) => (start === null ? now + DAY : start + (warmupDay(start, now) + 1) * DAY);
    for (const d of liveDomains) {
      const acc = live.find((r) => r.domain_id === d)!.account_id;
      const start = startOf.get(`${acc}|domain:${d}`) ?? null;
      const cap = warmupCap(c(), start, now);
      const mine = domainSent.filter((s) => s.key === d);
      if (cap === null) continue;
      left.set(`domain:${d}`, cap - mine.reduce((a, s) => a + s.n, 0));
      // This batch's own sends count from the current hour.
      freesAt.set(`domain:${d}`, Math.min(nextDay(start), hourOf(now) + DAY, ...mine.map((s) => s.first + DAY)));
    }
    if (ips.length) {
      const ipStart = new Map(ipStarted.map((s) => [s.subject, Number(s.started_at)]));
      const caps = ips.map((ip) => warmupCap(c(), ipStart.get(`ip:${ip}`) ?? null, now));
      // The pool is warm once every IP is; until then its allowance is the sum of its IPs' (a warm IP counts the target).
      if (caps.some((x) => x !== null)) {
        left.set('ip', caps.reduce<number>((a, x) => a + (x ?? c().warmupTargetPerDay), 0) - ipSent.reduce((a, s) => a + s.n, 0));
        freesAt.set('ip', Math.min(hourOf(now) + DAY, ...ips.map((ip) => nextDay(ipStart.get(`ip:${ip}`) ?? null)), ...ipSent.map((s) => s.first + DAY)));
      }
    }
    for (const s of hourSent) left.set(`hour:${s.account_id}|${s.key}|${s.provider}`, -s.n);
    for (const [k, n] of inFlightByKey()) if (k.startsWith('hour:') || left.has(k)) left.set(k, (left.get(k) ?? 0) - n);

    for (const r of live) {
      const provider = providerOf(r.rcpt);
      const cap = provider === 'other' ? 0 : c().hourlyCaps[provider];
      const hourKey = `hour:${r.account_id}|${orgDomainOf(r.from_address)}|${provider}`;
      const checks: Array<[string, string]> = [];
      if (r.domain_id && left.has(`domain:${r.domain_id}`)) checks.push([`domain:${r.domain_id}`, 'warmup']);
      if (left.has('ip')) checks.push(['ip', 'warmup:ip']);
      const failed = checks.find(([k]) => left.get(k)! <= 0);
      if (failed) { out.set(Number(r.id), { reason: failed[1], retryAt: Math.max(nextHour, freesAt.get(failed[0]) ?? nextHour) }); continue; }
      if (cap > 0 && cap + (left.get(hourKey) ?? 0) <= 0) { out.set(Number(r.id), { reason: `hourly_cap:${provider}`, retryAt: nextHour }); continue; }
      for (const [k] of checks) left.set(k, left.get(k)! - 1);
      if (cap > 0) left.set(hourKey, (left.get(hourKey) ?? 0) - 1);
      const keys = [...checks.map(([k]) => k), ...(cap > 0 ? [hourKey] : [])];
      if (keys.length) inFlight.set(Number(r.id), keys);
    }
    return out;
  }

  async function recorded(rows: MessageRow[], records: AttemptRecord[], now: number): Promise<void> {
    // The batch's reservations end once its counters are committed (or when nothing was sent).
    const settle = () => { for (const r of rows) inFlight.delete(Number(r.id)); };
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    const sent = records.filter((x) => x.status === 'sent').map((x) => byId.get(Number(x.id))).filter((r): r is MessageRow => !!r);
    const hour = hourOf(now);
    const inc = new Map<string, HourlyIncrement>();
    const add = (account_id: string, scope: string, key: string, provider: string) => {
      const k = `${account_id}|${scope}|${key}|${provider}`;
      const e = inc.get(k) ?? { account_id, scope, key, provider, hour, count: 0 };
      e.count++;
      inc.set(k, e);
    };
    const ips = warmupIps(deps.config);
    for (const r of sent) {
      add(r.account_id, 'org', orgDomainOf(r.from_address), providerOf(r.rcpt));
      if (r.domain_id) add(r.account_id, 'domain', r.domain_id, '*');
      if (ips.length) add('*', 'ip', 'pool', '*');
    }
    if (!sent.length) return settle();
    const orgRows = [...inc.values()].filter((e) => e.scope === 'org');
    // Warm-up start dates are permanent: insert each subject once per process.
    // A test domain's mail does not start its warm-up: it may become a real sending domain later.
    const tests = await testDomains([...new Set(sent.map((r) => r.domain_id).filter((d): d is string => !!d))], now);
    const starts = [
      ...[...new Set(sent.filter((r) => r.domain_id && !tests.has(r.domain_id)).map((r) => `${r.account_id}|domain:${r.domain_id}`))].map((k) => ({ account_id: k.split('|')[0], subject: k.split('|')[1], started_at: now })),
      ...ips.map((ip) => ({ account_id: '*', subject: `ip:${ip}`, started_at: now })),
    ].filter((w) => !started.has(`${w.account_id}|${w.subject}`));
    // One transaction for the counters: one commit per batch instead of four. The reservations
    // end even if it fails (the worker has no other moment to end them).
    await deps.store.db.transaction().execute(async (tx) => {
      const txDeps = { ...deps, store: { ...deps.store, db: tx } };
      const c2 = complianceCountersRepo(txDeps.store);
      await c2.addHourly([...inc.values()]);
      await c2.addDaily(orgRows.map((e) => ({ account_id: e.account_id, org_domain: e.key, provider: e.provider, day: dayOf(now), count: e.count })));
      await complianceStreamsRepo(txDeps.store).startWarmups(starts);
      await recordDeliveries(txDeps, sent, now);
    }).finally(settle);
    for (const w of starts) started.add(`${w.account_id}|${w.subject}`);
    await checkBulk(orgRows.filter((e) => (e.provider === 'gmail' || e.provider === 'outlook') && !flagged.has(`${e.account_id}|${e.key}|${e.provider}`)), now);
  }

  /** The permanent bulk-sender flag at 5,000 in rolling 24 h, an alert at 4,500 (R-SCOPE-1/3). */
  async function checkBulk(touched: HourlyIncrement[], now: number): Promise<void> {
    for (const e of touched) {
      // Far below the alert, a recent count plus this process's increments is enough: re-count at most once a minute.
      const k = `${e.account_id}|${e.key}|${e.provider}`;
      const known = recent.get(k);
      if (known && now - known.at < 60_000 && known.n + e.count < c().bulkAlertAt * 0.9) {
        known.n += e.count;
        continue;
      }
      const [sum] = await counters.sums('org', [e.account_id], [e.key], windowStart(now)).then((s) => s.filter((x) => x.provider === e.provider));
      const n = sum?.n ?? 0;
      recent.set(k, { n, at: now });
      const data = { org_domain: e.key, provider: e.provider, rolling_24h: n, rule: e.provider === 'gmail' ? 'R-SCOPE-1' : 'R-SCOPE-3' };
      if (n >= c().bulkAlertAt && (await counters.flagOnce(e.account_id, `bulk_near:${e.provider}:${e.key}`, now))) {
        await raiseAlert(deps, e.account_id, 'bulk_sender_near', { ...data, threshold: c().bulkThreshold });
      }
      if (n >= c().bulkThreshold) {
        if (await counters.flagBulk(e.account_id, e.key, e.provider, now)) await raiseAlert(deps, e.account_id, 'bulk_sender', data);
        // Permanent (R-SCOPE-1): no need to count this one again in this process.
        flagged.add(`${e.account_id}|${e.key}|${e.provider}`);
      }
    }
  }

  return { admit, recorded };
}
