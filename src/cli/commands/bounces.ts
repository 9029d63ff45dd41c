import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { output, resolveAccount, withCore } from '../context.js';

/** `bounces list|show|raw|parse|holds|release`: the bounce and complaint log (issue 5 item 6). */
export function register(program: Command): void {
  const b = program.command('bounces').description('bounce and complaint log, held streams');
  const acct = (c: Command) => c.option('--account <id>', 'account id');
  acct(b.command('list').description('newest first').option('--address <a>', 'one address').option('--kind <k>', 'bounce|complaint|autoreply|delay')
    .option('--class <c>', 'hard_bounce, soft_bounce, …').option('--limit <n>', 'rows', '50'))
    .action(async (o: { account?: string; address?: string; kind?: string; class?: string; limit: string }) => {
      const rows = await withCore(program, async (core) => core.bounces.list(await resolveAccount(core, o.account), { address: o.address, kind: o.kind, cls: o.class, limit: Number(o.limit) }));
      output(program, rows, rows.map((r) => ({ id: r.id, at: new Date(Number(r.created_at)).toISOString(), address: r.address, kind: r.kind, source: r.source, status: r.status ?? '', class: r.class, action: r.action })));
    });
  acct(b.command('show <id>').description('one outcome')).action(async (id: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.bounces.get(await resolveAccount(core, o.account), Number(id)));
    output(program, r, [r as unknown as Record<string, unknown>]);
  });
  acct(b.command('raw <id> <file>').description('save the raw report of an outcome as .eml')).action(async (id: string, file: string, o: { account?: string }) => {
    const n = await withCore(program, async (core) => {
      const acc = await resolveAccount(core, o.account);
      const e = await core.bounces.get(acc, Number(id));
      if (!e.raw_id) throw new Error('this outcome came from an SMTP reply and has no raw report');
      const raw = Buffer.from((await core.bounces.raw(acc, Number(e.raw_id))).raw);
      writeFileSync(file, raw);
      return raw.length;
    });
    output(program, { file, bytes: n });
  });
  b.command('parse <file>').description('parse a bounce, DSN, ARF report or auto-reply and print what tegami sees (no database)')
    .action(async (file: string) => {
      // Parsers load only for this command, not in every process the CLI starts (tegami worker).
      const { parseInboundReport } = await import('../../bounce/parse-report.js');
      const r = parseInboundReport(readFileSync(file));
      output(program, r, r.kind === 'dsn' ? r.recipients.map((x) => ({ kind: 'dsn', format: r.format, address: x.address, action: x.action, status: x.status, class: x.classification.class, suppress: x.classification.suppress }))
        : [{ kind: r.kind, ...(r.kind === 'arf' ? { feedback: r.feedbackType, recipients: r.recipients.join(' ') } : { reason: r.kind === 'autoreply' || r.kind === 'unknown' ? r.reason : '' }) }]);
    });
  acct(b.command('holds').description('held streams and provider throttles').option('--all', 'include released')).action(async (o: { account?: string; all?: boolean }) => {
    const rows = await withCore(program, async (core) => core.bounces.holds(await resolveAccount(core, o.account), !!o.all));
    output(program, rows, rows.map((h) => ({ id: h.id, domain: h.domain_id, stream: h.stream, reason: h.reason, rule: h.rule_id ?? '', since: new Date(Number(h.created_at)).toISOString(), released: h.released_at ? new Date(Number(h.released_at)).toISOString() : '' })));
  });
  acct(b.command('release <id>').description('release a held stream (recorded as the CLI user)')).action(async (id: string, o: { account?: string }) => {
    await withCore(program, async (core) => core.bounces.releaseHold(await resolveAccount(core, o.account), Number(id), `cli:${process.env.USER ?? 'unknown'}`));
    output(program, { released: Number(id) });
  });
}
