import type { Deps } from '../app/deps.js';
import { raiseAlert } from '../core/alerts.js';
import { complianceCountersRepo } from '../store/compliance-counters-repo.js';
import { complianceStreamsRepo } from '../store/compliance-streams-repo.js';
import { dayOf } from './providers.js';

/** The message a complaint is about: its account, sending domain and id. */
export interface ComplainedMessage {
  id: number | string;
  domain_id: string | null;
  campaign_id?: string | null;
}

/** The day's figures of one sending domain and what they mean against the thresholds. */
export interface SpamRateFigures {
  domain_id: string;
  day: string;
  delivered: number;
  complaints: number;
  /** complaints / max(delivered, spamRateMinDelivered) (R-CMPL-2: an understatement of the providers' rate). */
  rate: number;
  level: 'ok' | 'warning' | 'paused';
}

/** Computes the rate of one day's figures. */
export function spamRateOf(deps: Pick<Deps, 'config'>, row: { domain_id: string; day: string; delivered: number; complaints: number }): SpamRateFigures {
  const c = deps.config.compliance;
  const delivered = Number(row.delivered);
  const complaints = Number(row.complaints);
  const rate = complaints / Math.max(delivered, c.spamRateMinDelivered);
  const level = rate >= c.spamRatePause ? 'paused' : rate >= c.spamRateWarn ? 'warning' : 'ok';
  return { domain_id: row.domain_id, day: row.day, delivered, complaints, rate, level };
}

/**
 * Checks the day's spam rate of a sending domain (R-CMPL-1): an alert at the warning threshold
 * (once per domain and day), and subscription sending paused at the pause threshold until a
 * person resumes it through the API. Returns the figures.
 */
export async function checkSpamRate(deps: Deps, accountId: string, domainId: string, now: number): Promise<SpamRateFigures | null> {
  const counters = complianceCountersRepo(deps.store);
  const day = dayOf(now);
  const row = await counters.spamDay(accountId, domainId, day);
  if (!row) return null;
  const f = spamRateOf(deps, row);
  const data = { domain_id: domainId, day, rate: f.rate, complaints: f.complaints, delivered: f.delivered, rule: 'R-CMPL-1' };
  if (f.level === 'paused') {
    const streams = complianceStreamsRepo(deps.store);
    if (!(await streams.activeFor(accountId, domainId, 'spam_rate'))) {
      await streams.insert({ account_id: accountId, domain_id: domainId, kind: 'spam_rate', data: JSON.stringify({ ...data, threshold: deps.config.compliance.spamRatePause }), created_at: now });
      await raiseAlert(deps, accountId, 'spam_rate_paused', { ...data, threshold: deps.config.compliance.spamRatePause });
    }
  } else if (f.level === 'warning' && (await counters.flagOnce(accountId, `spam_warn:${domainId}:${day}`, now))) {
    await raiseAlert(deps, accountId, 'spam_rate_warning', { ...data, threshold: deps.config.compliance.spamRateWarn });
  }
  return f;
}

/**
 * Counts one complaint (an ARF report or a provider webhook) against the day's rate of the
 * message's sending domain and applies the thresholds. Called by the bounce pipeline (issue 5)
 * after it wrote the `complained` event.
 */
export async function recordComplaint(deps: Deps, accountId: string, message: ComplainedMessage, now: number): Promise<SpamRateFigures | null> {
  if (!message.domain_id) return null;
  await complianceCountersRepo(deps.store).addSpam([{ account_id: accountId, domain_id: message.domain_id, day: dayOf(now), delivered: 0, complaints: 1 }]);
  return checkSpamRate(deps, accountId, message.domain_id, now);
}

/** Counts deliveries (the rate's denominator) per account, sending domain and day. */
export async function recordDeliveries(deps: Deps, delivered: Array<{ account_id: string; domain_id: string | null }>, now: number): Promise<void> {
  const by = new Map<string, { account_id: string; domain_id: string; day: string; delivered: number; complaints: number }>();
  const day = dayOf(now);
  for (const d of delivered) {
    if (!d.domain_id) continue;
    const k = `${d.account_id}|${d.domain_id}`;
    const e = by.get(k) ?? { account_id: d.account_id, domain_id: d.domain_id, day, delivered: 0, complaints: 0 };
    e.delivered++;
    by.set(k, e);
  }
  await complianceCountersRepo(deps.store).addSpam([...by.values()]);
}
