import { classifyRecord, type ClassifyContext, type SourceClass } from './classify.js';
import type { DkimAuthResult, PolicyReason, SpfAuthResult } from './report-types.js';
import { recommend, type Recommendation } from './recommend.js';

/** Records already summed per identical row (see dmarcRepo.recordGroups). */
export interface RecordGroup {
  source_ip: string; header_from: string; envelope_from: string; disposition: string; dkim: string; spf: string;
  dkim_json: string; spf_json: string; reasons_json: string; policy_json: string; count: number;
  /** Start of the report's range (epoch ms): the day the volume is charted on. */
  date_begin: number;
}

/** The reports of the period (coverage and the published policy). */
export interface ReportInfo { org_name: string; reporter: string; date_begin: number; date_end: number; policy_json: string }

/** One sending source (an IP) of the period. */
export interface SourceSummary {
  ip: string;
  ptr: string | null;
  class: SourceClass;
  messages: number;
  pass: number;
  pass_share: number;
  dkim_aligned: number;
  spf_aligned: number;
  /** Messages per class when the IP's records differ (the source's class is the largest). */
  classes: Partial<Record<SourceClass, number>>;
  dispositions: Record<string, number>;
  header_from: string[];
  dkim: Array<{ domain: string; selector: string; result: string; messages: number }>;
  spf: Array<{ domain: string; result: string; messages: number }>;
}

/** The whole analysis of a domain and period. */
export interface DmarcAnalysis {
  domain: string;
  from: number;
  to: number;
  reports: number;
  reporters: string[];
  days: number;
  messages: number;
  pass: number;
  pass_share: number;
  by_class: Record<SourceClass, { sources: number; messages: number; pass: number }>;
  published_policy: Record<string, string> | null;
  sources: SourceSummary[];
  subdomains: Array<{ name: string; messages: number; pass: number; pass_share: number; sources: number }>;
  /** Volume per UTC day of the reports' start, for charts. */
  daily: DailyPoint[];
  recommendation: Recommendation;
}

/** One day of the daily series. */
export interface DailyPoint { day: string; messages: number; pass: number; pass_share: number; classes: Record<SourceClass, number> }

const share = (n: number, d: number) => (d ? Math.round((n / d) * 10000) / 10000 : 0);
const parse = <T>(s: string, dflt: T): T => { try { return JSON.parse(s) as T; } catch { return dflt; } };
const DAY = 86_400_000;

/** Distinct UTC days the reports cover (a report spanning weeks counts at most 31). */
export function coveredDays(reports: ReportInfo[]): number {
  const days = new Set<number>();
  for (const r of reports) {
    const first = Math.floor(r.date_begin / DAY);
    const last = Math.max(first, Math.floor((Math.max(r.date_end, r.date_begin + 1) - 1) / DAY));
    for (let d = first; d <= Math.min(last, first + 30); d++) days.add(d);
  }
  return days.size;
}

interface Acc { s: SourceSummary; cp: Partial<Record<SourceClass, number>>; hf: Set<string>; dkim: Map<string, SourceSummary['dkim'][number]>; spf: Map<string, SourceSummary['spf'][number]> }

function accumulate(acc: Acc, g: RecordGroup, cls: SourceClass, pass: boolean, dk: boolean, sp: boolean) {
  const s = acc.s;
  s.messages += g.count;
  if (pass) {
    s.pass += g.count;
    acc.cp[cls] = (acc.cp[cls] ?? 0) + g.count;
  }
  if (dk) s.dkim_aligned += g.count;
  if (sp) s.spf_aligned += g.count;
  s.classes[cls] = (s.classes[cls] ?? 0) + g.count;
  const disp = g.disposition || 'unknown';
  s.dispositions[disp] = (s.dispositions[disp] ?? 0) + g.count;
  if (g.header_from) acc.hf.add(g.header_from);
  for (const d of parse<DkimAuthResult[]>(g.dkim_json, [])) {
    const k = `${d.domain}|${d.selector}|${d.result}`;
    const e = acc.dkim.get(k) ?? { domain: d.domain, selector: d.selector, result: d.result, messages: 0 };
    e.messages += g.count;
    acc.dkim.set(k, e);
  }
  for (const x of parse<SpfAuthResult[]>(g.spf_json, [])) {
    const k = `${x.domain}|${x.result}`;
    const e = acc.spf.get(k) ?? { domain: x.domain, result: x.result, messages: 0 };
    e.messages += g.count;
    acc.spf.set(k, e);
  }
}

/**
 * Analyses a domain's records of a period: sources classified (tegami, authorized, forwarder,
 * failing), DMARC pass share, subdomains seen that are not configured, and the policy recommendation.
 */
export function analyseDomain(input: {
  domain: string; from: number; to: number; groups: RecordGroup[]; reports: ReportInfo[]; ctx: ClassifyContext;
  configured: Set<string>; ptr: Map<string, string | null>; minDays: number; minShare: number; rua: string;
}): DmarcAnalysis {
  const { groups, ctx } = input;
  const bySource = new Map<string, Acc>();
  const subs = new Map<string, { name: string; messages: number; pass: number; ips: Set<string> }>();
  const daily = new Map<number, DailyPoint>();
  for (const g of groups) {
    const pol = parse<Record<string, string>>(g.policy_json, {});
    const c = classifyRecord(ctx, {
      sourceIp: g.source_ip, headerFrom: g.header_from || input.domain, dkim: g.dkim, spf: g.spf, adkim: pol.adkim ?? '', aspf: pol.aspf ?? '',
      dkimResults: parse(g.dkim_json, []), spfResults: parse(g.spf_json, []), reasons: parse<PolicyReason[]>(g.reasons_json, []),
    });
    let acc = bySource.get(g.source_ip);
    if (!acc) {
      acc = { s: { ip: g.source_ip, ptr: null, class: c.class, messages: 0, pass: 0, pass_share: 0, dkim_aligned: 0, spf_aligned: 0, classes: {}, dispositions: {}, header_from: [], dkim: [], spf: [] }, cp: {}, hf: new Set(), dkim: new Map(), spf: new Map() };
      bySource.set(g.source_ip, acc);
    }
    accumulate(acc, g, c.class, c.dmarcPass, c.dkimAligned, c.spfAligned);
    const dayNo = Math.floor(g.date_begin / DAY);
    const point = daily.get(dayNo) ?? { day: new Date(dayNo * DAY).toISOString().slice(0, 10), messages: 0, pass: 0, pass_share: 0, classes: { tegami: 0, authorized: 0, forwarder: 0, failing: 0 } };
    point.messages += g.count;
    if (c.dmarcPass) point.pass += g.count;
    point.classes[c.class] += g.count;
    daily.set(dayNo, point);
    const hf = g.header_from;
    if (hf && hf !== input.domain && !input.configured.has(hf)) {
      const e = subs.get(hf) ?? { name: hf, messages: 0, pass: 0, ips: new Set<string>() };
      e.messages += g.count;
      if (c.dmarcPass) e.pass += g.count;
      e.ips.add(g.source_ip);
      subs.set(hf, e);
    }
  }
  const by_class: DmarcAnalysis['by_class'] = { tegami: { sources: 0, messages: 0, pass: 0 }, authorized: { sources: 0, messages: 0, pass: 0 }, forwarder: { sources: 0, messages: 0, pass: 0 }, failing: { sources: 0, messages: 0, pass: 0 } };
  const sources = [...bySource.values()].map(({ s, cp, hf, dkim, spf }) => {
    // The IP's class is the class of most of its mail; `classes` keeps the split.
    s.class = (Object.entries(s.classes) as Array<[SourceClass, number]>).sort((a, b) => b[1] - a[1])[0][0];
    s.pass_share = share(s.pass, s.messages);
    s.header_from = [...hf].sort();
    s.dkim = [...dkim.values()].sort((a, b) => b.messages - a.messages).slice(0, 20);
    s.spf = [...spf.values()].sort((a, b) => b.messages - a.messages).slice(0, 20);
    s.ptr = input.ptr.get(s.ip) ?? null;
    for (const [cls, n] of Object.entries(s.classes) as Array<[SourceClass, number]>) {
      by_class[cls].messages += n;
      by_class[cls].pass += cp[cls] ?? 0;
    }
    by_class[s.class].sources++;
    return s;
  }).sort((a, b) => b.messages - a.messages || a.ip.localeCompare(b.ip));
  const messages = sources.reduce((n, s) => n + s.messages, 0);
  const pass = sources.reduce((n, s) => n + s.pass, 0);
  const latest = input.reports.length ? input.reports.reduce((a, b) => (b.date_begin >= a.date_begin ? b : a)) : null;
  const published = latest ? parse<Record<string, string>>(latest.policy_json, {}) : null;
  const days = coveredDays(input.reports);
  const analysis: Omit<DmarcAnalysis, 'recommendation'> = {
    domain: input.domain, from: input.from, to: input.to, reports: input.reports.length,
    reporters: [...new Set(input.reports.map((r) => r.org_name || r.reporter))].sort(), days, messages, pass, pass_share: share(pass, messages),
    by_class, published_policy: published, sources,
    daily: [...daily.entries()].sort((x, y) => x[0] - y[0]).map(([, p]) => ({ ...p, pass_share: share(p.pass, p.messages) })),
    subdomains: [...subs.values()].map((e) => ({ name: e.name, messages: e.messages, pass: e.pass, pass_share: share(e.pass, e.messages), sources: e.ips.size })).sort((a, b) => b.messages - a.messages),
  };
  return { ...analysis, recommendation: recommend(analysis, { minDays: input.minDays, minShare: input.minShare, rua: input.rua }) };
}
