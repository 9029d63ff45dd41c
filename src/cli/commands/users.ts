import type { Command } from 'commander';
import { randomToken } from '../../domain/ids.js';
import { output, resolveAccount, withCore } from '../context.js';

const row = (u: { id: string; email: string; role: string; disabled_at: number | null; last_login_at: number | null }) => ({
  id: u.id, email: u.email, role: u.role, disabled: u.disabled_at ? new Date(u.disabled_at).toISOString() : '',
  last_login: u.last_login_at ? new Date(u.last_login_at).toISOString() : '',
});

/** `tegami users add|ls|passwd|disable|enable|role`: console users (issue 8). */
export function register(program: Command): void {
  const u = program.command('users').description('console users (admin, editor, viewer)');
  const acct = (c: Command) => c.option('--account <id>', 'account id');
  acct(u.command('add <email>').description('add a console user; prints a generated password unless --password is given')
    .option('--role <role>', 'admin|editor|viewer', 'viewer').option('--password <pw>', 'password (at least 12 characters)'))
    .action(async (email: string, o: { account?: string; role: string; password?: string }) => {
      const r = await withCore(program, async (core) => core.consoleUsers.add(await resolveAccount(core, o.account), { email, role: o.role, password: o.password }));
      output(program, { ...r.user, ...(r.password ? { password: r.password } : {}) }, [{ ...row(r.user), ...(r.password ? { password: r.password } : {}) }]);
    });
  acct(u.command('ls').alias('list').description('list the console users')).action(async (o: { account?: string }) => {
    const rows = await withCore(program, async (core) => core.consoleUsers.list(await resolveAccount(core, o.account)));
    output(program, rows, rows.map(row));
  });
  acct(u.command('passwd <email>').description('set a new password (generated unless --password); ends the user\'s sessions')
    .option('--password <pw>', 'new password (at least 12 characters)'))
    .action(async (email: string, o: { account?: string; password?: string }) => {
      const password = o.password ?? randomToken(15);
      const r = await withCore(program, async (core) => {
        const accountId = await resolveAccount(core, o.account);
        const user = await core.consoleUsers.byEmail(accountId, email);
        return core.consoleUsers.update(accountId, user.id, { password });
      });
      output(program, { ...r, ...(o.password ? {} : { password }) }, [{ ...row(r), ...(o.password ? {} : { password }) }]);
    });
  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    acct(u.command(`${name} <email>`).description(disabled ? 'disable a user and end their sessions' : 'enable a disabled user'))
      .action(async (email: string, o: { account?: string }) => {
        const r = await withCore(program, async (core) => {
          const accountId = await resolveAccount(core, o.account);
          return core.consoleUsers.update(accountId, (await core.consoleUsers.byEmail(accountId, email)).id, { disabled });
        });
        output(program, r, [row(r)]);
      });
  }
  acct(u.command('role <email> <role>').description('change a user\'s role')).action(async (email: string, role: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => {
      const accountId = await resolveAccount(core, o.account);
      return core.consoleUsers.update(accountId, (await core.consoleUsers.byEmail(accountId, email)).id, { role });
    });
    output(program, r, [row(r)]);
  });
}
