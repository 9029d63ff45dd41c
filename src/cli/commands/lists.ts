import type { Command } from 'commander';
import { output, resolveAccount, withCore } from '../context.js';

/** `list create NAME [--description D]` and `list ls`. */
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
}
