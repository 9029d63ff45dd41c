import { Resolver } from 'node:dns/promises';
import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { analyseDomain } from '../dmarc/analyse.js';
import { orgDomain, sendingIpList } from '../dmarc/classify.js';
import { lookupPtrs, type PtrResolver } from '../dmarc/ptr.js';
import type { ParsedReport } from '../dmarc/report-types.js';
import { ruaLocalPart } from '../dmarc/rua-address.js';
import type { Db } from '../store/db.js';
import { dmarcRepo, type DmarcReportRow } from '../store/dmarc-repo.js';
import { domainsRepo } from '../store/domains-repo.js';

/** Where a report came from. */
export type DmarcSource = 'api' | 'cli' | 'smtp';

/** What an ingest did with one report. */
export interface IngestedReport {
  id: string; duplicate: boolean; org_name: string; email: string; report_id: string; policy_domain: string;
  date_begin: number; date_end: number; record_count: number; message_count: number; pass_count: number;
  version: string; namespace: string; filename: string; source: string; domain_configured: boolean;
}

/** The dedupe key's reporter part: the organisation name, else the report address's domain. */
function reporterKey(r: ParsedReport): string {
  return r.orgName.trim().toLowerCase() || r.email.split('@').pop()!.trim().toLowerCase();
}

function summary(row: DmarcReportRow, duplicate: boolean, configured: boolean): IngestedReport {
  return {
    id: row.id, duplicate, org_name: row.org_name, email: row.email, report_id: row.report_id, policy_domain: row.policy_domain,
    date_begin: Number(row.date_begin), date_end: Number(row.date_end), record_count: Number(row.record_count),
    message_count: Number(row.message_count), pass_count: Number(row.pass_count), version: row.version, namespace: row.namespace,
    filename: row.filename, source: row.source, domain_configured: configured,
  };
}

const DAY = 86_400_000;

/** DMARC aggregate report ingest and analysis (issue 9). */
export function dmarcCore(deps: Deps, opts: { resolver?: PtrResolver } = {}) {
  const repo = dmarcRepo(deps.store);
  const cfg = () => deps.config.dmarc;
  let resolver: PtrResolver = opts.resolver ?? new Resolver({ timeout: cfg().ptrTimeoutMs, tries: 1 });

  /** One transaction per report: the report row and all its records, or nothing (duplicates skipped). */
  async function store(accountId: string, r: ParsedReport, meta: { source: DmarcSource; filename: string }): Promise<IngestedReport> {
    const reporter = reporterKey(r);
    const configured = !!(await domainsRepo(deps.store).byName(accountId, r.policy.domain));
    const existing = await repo.byKey(accountId, reporter, r.reportId);
    if (existing) return summary(existing, true, configured);
    const row = {
      id: newId('dmr_'), account_id: accountId, reporter, org_name: r.orgName, email: r.email, extra_contact_info: r.extraContactInfo,
      report_id: r.reportId, policy_domain: r.policy.domain, date_begin: r.dateBegin * 1000, date_end: r.dateEnd * 1000,
      version: r.version, namespace: r.namespace, policy_json: JSON.stringify(r.policy), errors_json: JSON.stringify(r.errors),
      record_count: r.records.length, message_count: r.records.reduce((n, x) => n + x.count, 0),
      pass_count: r.records.reduce((n, x) => n + (x.dkim === 'pass' || x.spf === 'pass' ? x.count : 0), 0),
      source: meta.source, filename: meta.filename.slice(0, 255), created_at: deps.clock.now(),
    };
    const inserted = await deps.store.db.transaction().execute(async (tx) => {
      const t = dmarcRepo({ ...deps.store, db: tx } as Db);
      if (!(await t.insertReport(row))) return false;
      await t.insertRecords(r.records.map((x) => ({
        account_id: accountId, report_id: row.id, source_ip: x.sourceIp, count: x.count, disposition: x.disposition, dkim: x.dkim, spf: x.spf,
        reasons_json: JSON.stringify(x.reasons), header_from: x.headerFrom, envelope_from: x.envelopeFrom, envelope_to: x.envelopeTo,
        dkim_json: JSON.stringify(x.dkimResults), spf_json: JSON.stringify(x.spfResults),
      })));
      return true;
    });
    // Lost a race with a concurrent copy of the same report: that one counts, this is the duplicate.
    if (!inserted) return summary((await repo.byKey(accountId, reporter, r.reportId))!, true, configured);
    deps.log.info({ account: accountId, report: row.id, reporter, records: row.record_count, source: meta.source }, 'dmarc report stored');
    return summary(row, false, configured);
  }

  const core = {
    /**
     * Parses an upload, file or e-mail (XML, gzip, zip, message/rfc822; sniffed) and stores each
     * report in it. Refusals are E_DMARC_* errors and store nothing; duplicates come back marked.
     */
    async ingest(accountId: string, input: Buffer, meta: { source: DmarcSource; filename?: string }): Promise<IngestedReport[]> {
      const name = meta.filename || 'report';
      // The parsers (mailparser, fast-xml-parser, yauzl) load on the first report, not in every process.
      const { parseReportInput } = await import('../dmarc/parse-input.js');
      const found = await parseReportInput(input, cfg(), name);
      const out: IngestedReport[] = [];
      for (const f of found) out.push(await store(accountId, f.report, { source: meta.source, filename: meta.filename ? name : f.name }));
      return out;
    },
    /** Reports, newest first, keyset-paged. */
    async list(accountId: string, f: { domain?: string; from?: number; to?: number; before?: string; limit?: number }) {
      const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
      const rows = await repo.list(accountId, { ...f, domain: f.domain?.toLowerCase(), limit });
      return { items: rows.map((r) => publicReport(r)), next_cursor: rows.length === limit ? rows[rows.length - 1].id : null };
    },
    /** One report with its records; another account's id is E_NOT_FOUND. */
    async get(accountId: string, id: string) {
      const row = await repo.get(accountId, id);
      if (!row) fail('E_NOT_FOUND', 'report not found');
      const records = await repo.records(accountId, id);
      return {
        ...publicReport(row), extra_contact_info: row.extra_contact_info, errors: JSON.parse(row.errors_json) as string[],
        records: records.map((x) => ({
          source_ip: x.source_ip, count: Number(x.count), disposition: x.disposition, dkim: x.dkim, spf: x.spf,
          reasons: JSON.parse(x.reasons_json), header_from: x.header_from, envelope_from: x.envelope_from, envelope_to: x.envelope_to,
          dkim_results: JSON.parse(x.dkim_json), spf_results: JSON.parse(x.spf_json),
        })),
      };
    },
    /** Domains that have reports, with counts. */
    domains: (accountId: string) => repo.domains(accountId).then((rs) => rs.map((r) => ({ domain: r.policy_domain, reports: Number(r.reports), last_end: Number(r.last_end) }))),
    /** The analysis of one domain over [from, to) in epoch ms (default: the last 30 days). */
    async analyse(accountId: string, domain: string, range: { from?: number; to?: number; ptr?: boolean } = {}) {
      const d = domain.trim().toLowerCase().replace(/\.$/, '');
      if (!d) fail('E_VALIDATION', 'domain is required');
      const to = range.to ?? deps.clock.now() + DAY;
      const from = range.from ?? to - 31 * DAY;
      if (from >= to) fail('E_VALIDATION', 'from must be before to');
      const [groups, reports, domains] = await Promise.all([repo.recordGroups(accountId, d, from, to), repo.reportsFor(accountId, d, from, to), domainsRepo(deps.store).list(accountId)]);
      const selectors = new Map<string, Set<string>>();
      for (const dom of domains) {
        const keys = await domainsRepo(deps.store).keys(accountId, dom.id);
        selectors.set(dom.name, new Set(keys.map((k) => k.selector.toLowerCase())));
      }
      const volume = new Map<string, number>();
      for (const g of groups) volume.set(g.source_ip, (volume.get(g.source_ip) ?? 0) + g.count);
      const ips = [...volume.entries()].sort((a, b) => b[1] - a[1]).map(([ip]) => ip);
      const ptr = range.ptr === false ? new Map<string, string | null>() : await lookupPtrs(resolver, ips, { timeoutMs: cfg().ptrTimeoutMs });
      return analyseDomain({
        domain: d, from, to, groups, reports, ptr, minDays: cfg().policyMinDays, minShare: cfg().policyMinAlignedShare,
        ctx: { sendingIps: sendingIpList(deps.config.dns.sendingIps), selectors },
        configured: new Set(domains.map((x) => x.name)), rua: await core.addressFor(accountId, d),
      });
    },
    /** The rua address for a domain: on its return-path domain when configured (same organisational domain, no external authorisation needed). */
    async addressFor(accountId: string, domain: string): Promise<string> {
      const row = await domainsRepo(deps.store).byName(accountId, domain);
      return `${ruaLocalPart(deps.masterKey, accountId)}@${row?.return_path_domain ?? deps.config.smtp.hostname}`;
    },
    /** Every rua address to publish: one per domain, and the platform host one (RFC 7489 §7.1). */
    async address(accountId: string) {
      const local = ruaLocalPart(deps.masterKey, accountId);
      const host = deps.config.smtp.hostname.toLowerCase();
      const domains = await domainsRepo(deps.store).list(accountId);
      return {
        address: `${local}@${host}`,
        domains: domains.map((dm) => {
          const address = `${local}@${dm.return_path_domain}`;
          return { domain: dm.name, address, dmarc_record: { name: `_dmarc.${dm.name}`, value: `v=DMARC1; p=none; rua=mailto:${address}` } };
        }),
        /** Using the host address for a domain of another organisation needs this record at the host (RFC 7489 §7.1). */
        external_authorization: domains.filter((dm) => orgDomain(dm.name) !== orgDomain(host))
          .map((dm) => ({ domain: dm.name, name: `${dm.name}._report._dmarc.${host}`, value: 'v=DMARC1' })),
      };
    },
    /** Replaces the PTR resolver (tests inject a fixture resolver; production uses node:dns with a timeout). */
    setResolver(r: PtrResolver) { resolver = r; },
  };
  return core;
}

function publicReport(r: DmarcReportRow) {
  return {
    id: r.id, org_name: r.org_name, email: r.email, report_id: r.report_id, policy_domain: r.policy_domain,
    date_begin: Number(r.date_begin), date_end: Number(r.date_end), version: r.version, namespace: r.namespace,
    policy: JSON.parse(r.policy_json) as Record<string, string>, record_count: Number(r.record_count),
    message_count: Number(r.message_count), pass_count: Number(r.pass_count), source: r.source, filename: r.filename, created_at: Number(r.created_at),
  };
}
