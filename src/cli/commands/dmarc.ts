import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { fail, isTegamiError } from '../../domain/errors.js';
import { output, resolveAccount, withCore, type GlobalOpts } from '../context.js';

/** `--from/--to`: a date (YYYY-MM-DD, UTC), an ISO time or epoch milliseconds. */
export function parseWhen(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(n)) fail('E_VALIDATION', `${field}: not a date (YYYY-MM-DD), ISO time or epoch ms: ${v}`);
  return n;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** `dmarc import FILE…` and `dmarc report --domain D`: DMARC aggregate reports (issue 9). */
export function register(program: Command): void {
  const d = program.command('dmarc').description('DMARC aggregate reports: import and analyse');
  d.command('import <files...>').description('import report files (.xml, .xml.gz, .zip or a whole report e-mail .eml)')
    .option('--account <id>', 'account id')
    .action(async (files: string[], o: { account?: string }) => {
      const results = await withCore(program, async (core, deps) => {
        const accountId = await resolveAccount(core, o.account);
        const out: Array<Record<string, unknown>> = [];
        for (const file of files) {
          try {
            if (statSync(file).size > deps.config.dmarc.maxInputBytes) fail('E_DMARC_TOO_LARGE', `${file} is larger than ${deps.config.dmarc.maxInputBytes} bytes`);
            for (const r of await core.dmarc.ingest(accountId, readFileSync(file), { source: 'cli', filename: basename(file) })) {
              out.push({ file, status: r.duplicate ? 'duplicate' : 'imported', id: r.id, reporter: r.org_name, report_id: r.report_id, domain: r.policy_domain, records: r.record_count, messages: r.message_count });
            }
          } catch (e) {
            if (!isTegamiError(e) && !(e as NodeJS.ErrnoException).code) throw e;
            out.push({ file, status: 'refused', error: (e as { code?: string }).code ?? 'E_IO', message: (e as Error).message });
          }
        }
        return out;
      });
      output(program, results, results.map((r) => ({ file: r.file, status: r.status, reporter: r.reporter ?? '', report_id: r.report_id ?? '', domain: r.domain ?? '', records: r.records ?? '', error: r.error ? `${r.error}: ${r.message}` : '' })));
      if (results.some((r) => r.status === 'refused')) process.exitCode = 2;
    });
  d.command('report').description('who sends mail as a domain: sources, classes, pass share and the policy recommendation')
    .requiredOption('--domain <domain>', 'the policy domain').option('--from <when>', 'start (YYYY-MM-DD, ISO or epoch ms; default 31 days before --to)')
    .option('--to <when>', 'end, exclusive (default now)').option('--no-ptr', 'skip PTR lookups').option('--account <id>', 'account id')
    .action(async (o: { domain: string; from?: string; to?: string; ptr: boolean; account?: string }) => {
      const a = await withCore(program, async (core) => core.dmarc.analyse(await resolveAccount(core, o.account), o.domain,
        { from: parseWhen(o.from, '--from'), to: parseWhen(o.to, '--to'), ptr: o.ptr }));
      if (program.opts<GlobalOpts>().json) return output(program, a);
      const r = a.recommendation;
      process.stdout.write([
        `domain ${a.domain}  ${new Date(a.from).toISOString().slice(0, 10)} .. ${new Date(a.to).toISOString().slice(0, 10)}  reports ${a.reports} from ${a.reporters.length} reporter(s), ${a.days} day(s)`,
        `messages ${a.messages}  DMARC pass ${pct(a.pass_share)}  tegami ${a.by_class.tegami.messages}  authorized ${a.by_class.authorized.messages}  forwarder ${a.by_class.forwarder.messages}  failing ${a.by_class.failing.messages}`,
        `policy p=${r.current}: ${r.action}${r.next ? ` -> p=${r.next}` : ''}${r.record ? `  (publish: ${r.record})` : ''}`,
        ...r.reasons.map((x) => `  - ${x}`),
        ...(a.subdomains.length ? [`subdomains not configured: ${a.subdomains.map((s) => `${s.name} (${s.messages}, pass ${pct(s.pass_share)})`).join(', ')}`] : []),
        '',
      ].join('\n'));
      output(program, a, a.sources.map((s) => ({
        ip: s.ip, ptr: s.ptr ?? '', class: s.class, messages: s.messages, pass: pct(s.pass_share),
        dkim_aligned: s.dkim_aligned, spf_aligned: s.spf_aligned, disposition: Object.entries(s.dispositions).map(([k, v]) => `${k}:${v}`).join(' '),
      })));
    });
}
