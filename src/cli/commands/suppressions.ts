import { createReadStream, createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import type { SuppressionScope } from '../../domain/suppression-rules.js';
import { output, resolveAccount, withCore } from '../context.js';

/** `suppressions add|remove|show|list|export|import|imports`: the ledger from the command line (issue 4). */
export function register(program: Command): void {
  const s = program.command('suppressions').description('the suppression ledger');
  const acct = (c: Command) => c.option('--account <id>', 'account id');
  acct(s.command('add <address...>').description('suppress addresses').option('--reason <r>', 'unsubscribe|complaint|hard_bounce|soft_bounce_limit|manual|invalid', 'manual')
    .option('--list <id>', 'list scope (default: the whole account)').option('--note <text>', 'note'))
    .action(async (addresses: string[], o: { account?: string; reason: string; list?: string; note?: string }) => {
      const r = await withCore(program, async (core) => core.suppressions.add(await resolveAccount(core, o.account),
        addresses.map((address) => ({ address, scope: (o.list ? 'list' : 'account') as SuppressionScope, listId: o.list, reason: o.reason, note: o.note })), { source: 'cli' }));
      output(program, r, [r]);
    });
  acct(s.command('remove <address>').description('remove a suppression (= resubscribe); a note is required').requiredOption('--note <text>', 'why')
    .option('--list <id>', 'list scope'))
    .action(async (address: string, o: { account?: string; note: string; list?: string }) => {
      await withCore(program, async (core) => core.suppressions.remove(await resolveAccount(core, o.account), address, o.list ? 'list' : 'account', o.list ?? null, { source: 'cli', note: o.note }));
      output(program, { removed: address });
    });
  acct(s.command('show <address>').description('entries and full history of an address')).action(async (address: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.suppressions.get(await resolveAccount(core, o.account), address));
    output(program, r, [...r.entries.map((e) => ({ kind: 'entry', scope: e.scope, list: e.list_id, reason: e.reason, source: e.source, at: new Date(e.created_at).toISOString(), note: e.note ?? '' })),
      ...r.history.map((h) => ({ kind: h.action, scope: h.scope, list: h.list_id, reason: h.reason ?? '', source: h.source, at: new Date(h.created_at).toISOString(), note: h.note ?? '' }))]);
  });
  acct(s.command('list').description('search the ledger').option('--prefix <p>', 'address prefix').option('--reason <r>', 'reason').option('--limit <n>', 'rows', '100'))
    .action(async (o: { account?: string; prefix?: string; reason?: string; limit: string }) => {
      const rows = await withCore(program, async (core) => core.suppressions.search(await resolveAccount(core, o.account), { prefix: o.prefix, reason: o.reason, limit: Number(o.limit) }));
      output(program, rows, rows.map((e) => ({ address: e.address_key, scope: e.scope, list: e.list_id, reason: e.reason, source: e.source, at: new Date(e.created_at).toISOString() })));
    });
  acct(s.command('export <file>').description('export the ledger as CSV (streamed)')).action(async (file: string, o: { account?: string }) => {
    const n = await withCore(program, async (core) => core.suppressions.exportCsv(await resolveAccount(core, o.account), {}, createWriteStream(file)));
    output(program, { exported: n, file });
  });
  acct(s.command('import <file>').description('import a CSV (address, scope, list_id, reason, note); idempotent')).action(async (file: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.suppressions.importCsv(await resolveAccount(core, o.account), createReadStream(file), { source: `import:cli:${file}` }));
    output(program, r);
  });
  acct(s.command('imports').description('bulk imports, newest first: status (running, done, failed, interrupted) and how far each got').option('--limit <n>', 'rows', '20'))
    .action(async (o: { account?: string; limit: string }) => {
      const rows = await withCore(program, async (core) => core.suppressions.listImports(await resolveAccount(core, o.account), undefined, Number(o.limit)));
      output(program, rows, rows.map((i) => ({ id: i.id, status: i.status, at: new Date(i.created_at).toISOString(), source: i.source, total: i.total, added: i.added, existing: i.existing, rejected: i.rejected_count, error: i.error ?? '' })));
    });
}
