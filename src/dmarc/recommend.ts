import type { DmarcAnalysis } from './analyse.js';

/** The policy step the evidence supports, with that evidence. */
export interface Recommendation {
  /** The policy the reports say is published ('none' when unknown). */
  current: string;
  /** The next policy to publish, or null when none is advised now. */
  next: 'quarantine' | 'reject' | null;
  /** move: publish `record` now; wait: too little evidence yet; fix: legitimate mail fails; keep: already at reject. */
  action: 'move' | 'wait' | 'fix' | 'keep';
  /** The DMARC TXT value to publish for `next` (R-AUTH-10: no pct, rf or ri). */
  record: string | null;
  reasons: string[];
  evidence: {
    days: number; min_days: number; reports: number; reporters: number;
    messages: number; legitimate_messages: number; legitimate_pass: number; aligned_share: number; min_aligned_share: number;
    tegami_messages: number; forwarder_messages: number; failing_messages: number;
    failing_sources: Array<{ ip: string; ptr: string | null; messages: number }>;
    unaligned_legitimate_sources: Array<{ ip: string; ptr: string | null; class: string; messages: number; pass_share: number }>;
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * p=none -> quarantine -> reject (R-AUTH-3, R-AUTH-10), one step at a time, only when at least
 * `minDays` days of reports show at least `minShare` of the legitimate volume (tegami, other
 * authorised services, forwarders) passing DMARC aligned. Failing sources are listed as evidence:
 * the next step would quarantine or reject them, so the owner must confirm they are not theirs.
 */
export function recommend(a: Omit<DmarcAnalysis, 'recommendation'>, opts: { minDays: number; minShare: number; rua: string }): Recommendation {
  const pol = a.published_policy ?? {};
  const current = ['none', 'quarantine', 'reject'].includes(pol.p) ? pol.p : 'none';
  const partial = current === 'quarantine' && ((pol.pct && pol.pct !== '100') || pol.testing === 'y');
  const legit = a.sources.filter((s) => s.class !== 'failing');
  const legitMessages = legit.reduce((n, s) => n + s.messages, 0);
  const legitPass = legit.reduce((n, s) => n + s.pass, 0);
  const alignedShare = legitMessages ? legitPass / legitMessages : 0;
  const evidence: Recommendation['evidence'] = {
    days: a.days, min_days: opts.minDays, reports: a.reports, reporters: a.reporters.length,
    messages: a.messages, legitimate_messages: legitMessages, legitimate_pass: legitPass,
    aligned_share: Math.round(alignedShare * 10000) / 10000, min_aligned_share: opts.minShare,
    tegami_messages: a.by_class.tegami.messages, forwarder_messages: a.by_class.forwarder.messages, failing_messages: a.by_class.failing.messages,
    failing_sources: a.sources.filter((s) => s.class === 'failing').slice(0, 10).map((s) => ({ ip: s.ip, ptr: s.ptr, messages: s.messages })),
    unaligned_legitimate_sources: legit.filter((s) => s.pass < s.messages).slice(0, 10)
      .map((s) => ({ ip: s.ip, ptr: s.ptr, class: s.class, messages: s.messages, pass_share: s.pass_share })),
  };
  const reasons: string[] = [];
  const next = current === 'none' ? 'quarantine' : current === 'quarantine' ? (partial ? 'quarantine' : 'reject') : null;
  const out = (action: Recommendation['action'], n: Recommendation['next']): Recommendation => ({
    current, next: n, action, record: n ? `v=DMARC1; p=${n}; rua=mailto:${opts.rua}` : null, reasons, evidence,
  });
  if (!next) {
    reasons.push('p=reject is already published: keep watching the reports for new failing sources.');
    return out('keep', null);
  }
  let blocked = false;
  if (a.days < opts.minDays) {
    reasons.push(`Only ${a.days} day(s) of reports; at least ${opts.minDays} are needed before tightening the policy.`);
    blocked = true;
  }
  if (!legitMessages) {
    reasons.push('No legitimate (aligned) mail was reported for this domain in the period.');
    return out('wait', null);
  }
  if (alignedShare < opts.minShare) {
    reasons.push(`${pct(alignedShare)} of legitimate volume passes DMARC aligned; at least ${pct(opts.minShare)} is needed. Fix DKIM/SPF alignment for the sources listed in the evidence first (R-AUTH-4).`);
    return out('fix', null);
  }
  if (blocked) return out('wait', null);
  reasons.push(`${a.days} days of reports from ${a.reporters.length} reporter(s): ${pct(alignedShare)} of ${legitMessages} legitimate messages pass DMARC aligned.`);
  if (evidence.failing_messages) {
    reasons.push(`${evidence.failing_messages} message(s) from ${a.by_class.failing.sources} source(s) fail DMARC and would be ${next === 'reject' ? 'rejected' : 'quarantined'}: confirm they are not yours (listed in the evidence).`);
  }
  const subFailing = a.subdomains.reduce((n, x) => n + x.messages - x.pass, 0);
  if (subFailing) {
    reasons.push(`${subFailing} failing message(s) use subdomains that are not configured (${a.subdomains.slice(0, 5).map((x) => x.name).join(', ')}): the subdomain policy sp= (and np= for names that do not exist) applies to them.`);
  }
  if (partial) reasons.push('The published quarantine is partial (pct below 100 or t=y): enforce it fully before moving to reject.');
  if (next === 'reject') {
    reasons.push('RFC 9989 advises general-purpose mail domains (where people have mailboxes) not to use p=reject (R-AUTH-10); a domain used only for sending can.');
    if (evidence.forwarder_messages) reasons.push(`${evidence.forwarder_messages} forwarded message(s) rely on DKIM surviving the forward; under p=reject those whose signature breaks are rejected.`);
  }
  return out('move', next);
}
