import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { output, resolveAccount, withCore } from '../context.js';

function progress(rows: number, started: number): void {
  const secs = (Date.now() - started) / 1000;
  process.stderr.write(`\r  imported ${rows.toLocaleString('en')} rows  (${Math.round(rows / Math.max(secs, 0.001)).toLocaleString('en')} rows/s)   `);
}

/** `list create|ls` and `contacts import FILE --list NAME`. */
export function register(program: Command): void {
  const l = program.command('list').description('subscription lists');
  l.command('create <name>').description('create a list').option('--description <text>', 'description').option('--account <id>', 'account id')
    .action(async (name: string, o: { description?: string; account?: string }) => {
      const r = await withCore(program, async (core) => core.lists.create(await resolveAccount(core, o.account), { name, description: o.description }));
      output(program, r, [{ id: r.id, name: r.name }]);
    });
  l.command('ls').description('list the lists').option('--account <id>', 'account id').action(async (o: { account?: string }) => {
    const rows = await withCore(program, async (core) => {
      const acc = await resolveAccount(core, o.account);
      return Promise.all((await core.lists.list(acc)).map((x) => core.lists.show(acc, x.id)));
    });
    output(program, rows, rows.map((r) => ({ id: r.id, name: r.name, subscribed: r.counts.subscribed, unsubscribed: r.counts.unsubscribed, pending: r.counts.pending })));
  });

  const c = program.command('contacts').description('contacts');
  c.command('import <file>').description('import a CSV (header row with an email column; other columns become attributes)')
    .requiredOption('--list <name>', 'list name or id').option('--account <id>', 'account id')
    .action(async (file: string, o: { list: string; account?: string }) => {
      const started = Date.now();
      const tty = process.stderr.isTTY && !program.opts().json;
      const s = await withCore(program, async (core) => {
        const acc = await resolveAccount(core, o.account);
        const list = await core.lists.get(acc, o.list);
        return core.contacts.import(acc, list.id, createReadStream(file), { onProgress: tty ? (n) => progress(n, started) : undefined, consentSource: `import:cli:${file}` });
      });
      if (tty) process.stderr.write('\n');
      if (program.opts().json) return output(program, s);
      process.stdout.write(`${s.total} rows read (${s.encoding}): ${s.accepted} accepted (${s.created} new, ${s.updated} updated, ${s.unchanged} unchanged), ${s.rejected_count} rejected, ${s.kept_unsubscribed} kept unsubscribed\n`);
      for (const r of s.rejected.slice(0, 50)) process.stdout.write(`  line ${r.line}: ${r.reason}${r.value !== undefined ? ` (${JSON.stringify(r.value)})` : ''}\n`);
      if (s.rejected_count > 50) process.stdout.write(`  … ${s.rejected_count - 50} more (use --json for all)\n`);
    });
}
