import type { Command } from 'commander';
import { output, resolveAccount, withCore } from '../context.js';

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : '');

/** `relay credential create|list|revoke`, `relay filter add|list|move|remove`, `relay stats` (issue 7). */
export function register(program: Command): void {
  const relay = program.command('relay').description('the SMTP submission relay: credentials, filters, counts');
  const acct = (c: Command) => c.option('--account <id>', 'account id');

  const cred = relay.command('credential').description('SMTP credentials (AUTH PLAIN/LOGIN after STARTTLS)');
  acct(cred.command('create').description('create a credential; the password is printed once').option('--name <name>', 'name', 'smtp')
    .option('--rate <n>', 'messages per minute (default: relay.ratePerMinute)').option('--allow <cidrs>', 'comma-separated IPs/CIDRs it may be used from')
    .option('--ip-auth', 'connections from --allow addresses relay without AUTH'))
    .action(async (o: { account?: string; name: string; rate?: string; allow?: string; ipAuth?: boolean }) => {
      const c = await withCore(program, async (core) => core.relay.createCredential(await resolveAccount(core, o.account), {
        name: o.name, rate_per_minute: o.rate ? Number(o.rate) : null, allowed_ips: o.allow ? o.allow.split(',').map((s) => s.trim()) : [], ip_auth: !!o.ipAuth,
      }, 'cli'));
      output(program, c);
    });
  acct(cred.command('list').description('list credentials (never the password)')).action(async (o: { account?: string }) => {
    const rows = await withCore(program, async (core) => core.relay.listCredentials(await resolveAccount(core, o.account)));
    output(program, rows, rows.map((r) => ({ id: r.id, name: r.name, username: r.username, rate: r.rate_per_minute ?? '', ip_auth: r.ip_auth, allowed: r.allowed_ips.join(','), last_used: iso(r.last_used_at), revoked: iso(r.revoked_at) })));
  });
  acct(cred.command('revoke <id>').description('revoke a credential')).action(async (id: string, o: { account?: string }) => {
    await withCore(program, async (core) => core.relay.revokeCredential(await resolveAccount(core, o.account), id));
    output(program, { revoked: id });
  });

  const filter = relay.command('filter').description('ordered header rules that mark relayed mail as subscription mail of a list');
  acct(filter.command('add <header> <value> <listId>').description('add a filter, e.g. `relay filter add X-Tegami-List weekly lst_…`')
    .option('--regex', 'value is a regular expression').option('--position <n>', '1-based place (default: last)').option('--name <name>', 'name'))
    .action(async (header: string, value: string, listId: string, o: { account?: string; regex?: boolean; position?: string; name?: string }) => {
      const f = await withCore(program, async (core) => core.relay.createFilter(await resolveAccount(core, o.account), {
        header, value, list_id: listId, match: o.regex ? 'regex' : 'exact', position: o.position ? Number(o.position) : undefined, name: o.name,
      }));
      output(program, f, [f]);
    });
  acct(filter.command('list').description('filters in evaluation order')).action(async (o: { account?: string }) => {
    const rows = await withCore(program, async (core) => core.relay.listFilters(await resolveAccount(core, o.account)));
    output(program, rows, rows.map((f) => ({ position: f.position, id: f.id, header: f.header, match: f.match, value: f.value, list: f.list_id })));
  });
  acct(filter.command('move <id> <position>').description('move a filter to a 1-based position')).action(async (id: string, position: string, o: { account?: string }) => {
    const f = await withCore(program, async (core) => core.relay.updateFilter(await resolveAccount(core, o.account), id, { position: Number(position) }));
    output(program, f, [f]);
  });
  acct(filter.command('remove <id>').description('delete a filter')).action(async (id: string, o: { account?: string }) => {
    await withCore(program, async (core) => core.relay.removeFilter(await resolveAccount(core, o.account), id));
    output(program, { removed: id });
  });

  acct(relay.command('stats').description('relayed recipients by status, suppressed ones by reason').option('--days <n>', 'days', '30'))
    .action(async (o: { account?: string; days: string }) => {
      const s = await withCore(program, async (core) => core.relay.stats(await resolveAccount(core, o.account), Number(o.days)));
      output(program, s);
    });
}
