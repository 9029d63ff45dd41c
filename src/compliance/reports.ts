import type { Deps } from '../app/deps.js';
import { raiseAlert } from '../core/alerts.js';
import { fail } from '../domain/errors.js';
import { complianceCountersRepo } from '../store/compliance-counters-repo.js';
import { complianceStreamsRepo } from '../store/compliance-streams-repo.js';
import { domainsRepo } from '../store/domains-repo.js';
import { windowStart } from './guard.js';
import { isTestDomain } from './preflight.js';
import { dayOf, hourOf } from './providers.js';
import { spamRateOf } from './spam-rate.js';
import { warmupCap, warmupDay, warmupIps, warmupSchedule } from './warmup.js';

const DAY = 86_400_000;

/** What the compliance API reports: volume, bulk-sender flags, spam rate, warm-up, paused streams. */
export function complianceReports(deps: Deps) {
  const counters = complianceCountersRepo(deps.store);
  const streams = complianceStreamsRepo(deps.store);
  const domains = domainsRepo(deps.store);
  const now = () => deps.clock.now();

  const api = {
    /** Per organisational domain × provider: rolling 24 h (hourly buckets) and per UTC day (R-SCOPE-1/3). */
    async volume(accountId: string, days = 7) {
      const t = now();
      const hours = await counters.orgHours(accountId, windowStart(t));
      const rolling = new Map<string, { org_domain: string; provider: string; rolling_24h: number; this_hour: number }>();
      for (const h of hours) {
        const k = `${h.key}|${h.provider}`;
        const e = rolling.get(k) ?? { org_domain: h.key, provider: h.provider, rolling_24h: 0, this_hour: 0 };
        e.rolling_24h += Number(h.count);
        if (Number(h.hour) === hourOf(t)) e.this_hour += Number(h.count);
        rolling.set(k, e);
      }
      const daily = (await counters.dailyVolume(accountId, dayOf(t - (days - 1) * DAY)))
        .map((r) => ({ org_domain: r.org_domain, provider: r.provider, day: r.day, count: Number(r.count) }));
      const c = deps.config.compliance;
      return { as_of: t, bulk_threshold: c.bulkThreshold, bulk_alert_at: c.bulkAlertAt, hourly_caps: c.hourlyCaps, rolling: [...rolling.values()], daily };
    },
    /** Permanent bulk-sender flags (never cleared, R-SCOPE-1). */
    bulkSenders: async (accountId: string) =>
      (await counters.bulkSenders(accountId)).map((b) => ({ org_domain: b.org_domain, provider: b.provider, since: Number(b.since) })),
    /** Complaints ÷ delivered per sending domain and day, with the thresholds and paused streams (R-CMPL-1/2). */
    async spamRate(accountId: string, days = 7) {
      const rows = await counters.spamSince(accountId, dayOf(now() - (days - 1) * DAY));
      const c = deps.config.compliance;
      return {
        warn_at: c.spamRateWarn, pause_at: c.spamRatePause, min_delivered: c.spamRateMinDelivered,
        days: rows.map((r) => spamRateOf(deps, r)),
        streams: (await streams.history(accountId)).map((h) => ({
          id: Number(h.id), domain_id: h.domain_id, kind: h.kind, data: JSON.parse(h.data), created_at: Number(h.created_at),
          resumed_at: h.resumed_at === null ? null : Number(h.resumed_at), resumed_by: h.resumed_by, resume_note: h.resume_note, active: h.resumed_at === null,
        })),
      };
    },
    /** Warm-up state of each sending domain and of the direct-MX IPs (R-VOL-1). */
    async warmup(accountId: string) {
      const t = now();
      const c = deps.config.compliance;
      const list = await domains.list(accountId);
      const started = new Map((await streams.warmupsOf(accountId)).map((w) => [`${w.account_id}|${w.subject}`, Number(w.started_at)]));
      const sent = await counters.sums('domain', [accountId], list.map((d) => d.id), windowStart(t));
      const doms = list.map((d) => {
        const s = started.get(`${accountId}|domain:${d.id}`) ?? null;
        const cap = isTestDomain(d, deps.config) ? null : warmupCap(c, s, t);
        const n = sent.filter((x) => x.key === d.id).reduce((a, x) => a + x.n, 0);
        return { domain_id: d.id, domain: d.name, test_domain: isTestDomain(d, deps.config), started_at: s, day: warmupDay(s, t), daily_cap: cap, sent_24h: n, remaining: cap === null ? null : Math.max(0, cap - n), warm: cap === null };
      });
      const ips = warmupIps(deps.config).map((ip) => {
        const s = started.get(`*|ip:${ip}`) ?? null;
        return { ip, started_at: s, day: warmupDay(s, t), daily_cap: warmupCap(c, s, t) };
      });
      return { schedule: warmupSchedule(c), domains: doms, ips };
    },
    /**
     * Records that a domain already has a sending history (moved from another platform): its warm-up
     * counts from `startedAt` (a past time; days before now). Recorded as an alert event with who and why.
     */
    async setWarmupStart(accountId: string, domainId: string, startedAt: number, by: string, note: string) {
      const d = (await domains.get(accountId, domainId)) ?? (await domains.byName(accountId, domainId.toLowerCase()));
      if (!d) fail('E_NOT_FOUND', 'domain not found');
      if (!Number.isFinite(startedAt) || startedAt > now()) fail('E_VALIDATION', 'started_at must be a time in the past (epoch ms)');
      await streams.setWarmup(accountId, `domain:${d.id}`, startedAt);
      await raiseAlert(deps, accountId, 'warmup_set', { domain_id: d.id, domain: d.name, started_at: startedAt, by, note, rule: 'R-VOL-1' });
      return (await api.warmup(accountId)).domains.find((x) => x.domain_id === d.id)!;
    },
    /** Resumes a paused subscription stream (only a person does this; who and when are recorded). */
    async resumeStream(accountId: string, domainId: string, by: string, note: string | null) {
      const d = (await domains.get(accountId, domainId)) ?? (await domains.byName(accountId, domainId.toLowerCase()));
      if (!d) fail('E_NOT_FOUND', 'domain not found');
      const n = await streams.resume(accountId, d.id, by, note, now(), 'spam_rate');
      if (!n) fail('E_STATE', `subscription mail from ${d.name} is not paused`);
      await raiseAlert(deps, accountId, 'stream_resumed', { domain_id: d.id, domain: d.name, by, note, rule: 'R-CMPL-1' });
      return { domain_id: d.id, domain: d.name, resumed: n, resumed_by: by, resumed_at: now() };
    },
    /** Why a campaign's queued messages wait: held reason → count and the earliest retry. */
    async heldReasons(accountId: string, campaignId: string) {
      if (!(await counters.campaignExists(accountId, campaignId))) fail('E_NOT_FOUND', 'campaign not found');
      const rows = await counters.heldReasons(accountId, campaignId);
      return Object.fromEntries(rows.map((r) => [r.reason as string, { count: Number(r.n), next_attempt_at: Number(r.next_at) }]));
    },
  };
  return api;
}
