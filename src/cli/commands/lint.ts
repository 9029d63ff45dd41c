import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../domain/errors.js';
import { output, resolveAccount, withCore } from '../context.js';

type Row = { severity: string; rule: string; id: string; message: string };
const rows = (findings: Row[]) => findings.map((x) => ({ severity: x.severity, rule: x.rule, id: x.id, message: x.message }));

/** `tegami lint FILE.eml [--json] [--key KEY]` and `tegami domain check DOMAIN` (issue 6). */
export function register(program: Command): void {
  program.command('lint <file>')
    .description('check a message (any system\'s) against R-FMT-*, R-UNSUB-*, R-LIST-*, R-AUTH-6/7/8 and DMARC alignment; exit 1 on any error finding')
    .option('--key <key>', 'verify DKIM with this public key (PEM or base64 p=, or a file holding it) instead of DNS')
    .option('--category <category>', 'subscription | transactional | auto (default: auto, from the list headers)')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { key?: string; category?: string; json?: boolean }) => {
      if (o.category && !['subscription', 'transactional', 'auto'].includes(o.category)) fail('E_VALIDATION', '--category: subscription, transactional or auto');
      let raw: Buffer;
      try {
        raw = file === '-' ? readFileSync(0) : readFileSync(file);
      } catch (e) {
        fail('E_VALIDATION', `${file}: ${(e as Error).message}`);
      }
      // mailparser and the DNS checks load only for this command (not in `tegami worker`).
      const [{ systemResolver }, { lintMessage }] = await Promise.all([import('../../compliance/domain-checks.js'), import('../../compliance/lint/lint-message.js')]);
      const r = await lintMessage(raw, { resolver: systemResolver, key: o.key, keyFiles: true, category: o.category as 'auto' | undefined, now: Date.now() });
      if (o.json || program.opts().json) output(program, r);
      else {
        output(program, r, rows(r.findings.filter((x) => x.severity !== 'pass')));
        process.stdout.write(`${r.ok ? 'OK' : 'FAIL'}: ${r.errors} error(s), ${r.warnings} warning(s) (${r.category})\n`);
      }
      if (!r.ok) process.exitCode = 1;
    });

  const domain = program.commands.find((c) => c.name() === 'domain');
  if (!domain) return;
  domain.command('check <domain>')
    .description('check SPF, DKIM, DMARC, PTR, MX/SOA, MTA-STS and TLS-RPT of a domain in live DNS; stores the result; exit 1 on any error finding')
    .option('--account <id>', 'account id')
    .option('--stored', 'show the stored result instead of checking again')
    .action(async (name: string, o: { account?: string; stored?: boolean }) => {
      const r = await withCore(program, async (core) => core.compliance.checkDomain(await resolveAccount(core, o.account), name, { refresh: !o.stored }));
      output(program, r, r.findings.map((x) => ({ severity: x.severity, rule: x.rule, id: x.id, message: x.message, fix: x.fix ? `${x.fix.name} ${x.fix.type} ${x.fix.value}` : '' })));
      if (!program.opts().json) process.stdout.write(`${r.ok ? 'OK' : 'FAIL'}: ${r.domain} (${r.status}); gates dkim=${r.gates.dkim} dmarc=${r.gates.dmarc}\n`);
      if (!r.ok) process.exitCode = 1;
    });
}
