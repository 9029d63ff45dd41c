import type { Command } from 'commander';
import type { Role, Scope } from '../../core/accounts.js';
import { newUserPasswordFromEnv } from '../../config/load.js';
import { output, resolveAccount, withCore } from '../context.js';

/** `account create`, `user create`, `apikey create|list|revoke`. */
export function register(program: Command): void {
  const account = program.command('account').description('accounts (tenants)');
  account.command('create <name>').description('create an account').action(async (name: string) => {
    const a = await withCore(program, (core) => core.accounts.createAccount(name));
    output(program, a, [a]);
  });
  account.command('list').description('list accounts').action(async () => {
    const rows = await withCore(program, (core) => core.accounts.listAccounts());
    output(program, rows, rows);
  });

  const user = program.command('user').description('console users');
  user.command('create <email>').description('create a console user (password read from TEGAMI_NEW_PASSWORD or generated)')
    .option('--account <id>', 'account id').option('--role <role>', 'admin | editor | viewer', 'viewer')
    .action(async (email: string, o: { account?: string; role: Role }) => {
      const { randomToken } = await import('../../domain/ids.js');
      const given = newUserPasswordFromEnv();
      const password = given ?? randomToken(15);
      const u = await withCore(program, async (core) => core.accounts.createUser(await resolveAccount(core, o.account), email, password, o.role));
      output(program, { ...u, password: given ? '(as given)' : password });
    });

  const key = program.command('apikey').description('API keys');
  key.command('create <name>').description('create an API key; the secret is printed once')
    .option('--account <id>', 'account id').option('--scopes <list>', 'read,write,admin', 'admin')
    .action(async (name: string, o: { account?: string; scopes: string }) => {
      const k = await withCore(program, async (core) =>
        core.accounts.createApiKey(await resolveAccount(core, o.account), name, o.scopes.split(',') as Scope[], 'cli'));
      output(program, k);
    });
  key.command('list').description('list API keys').option('--account <id>', 'account id').action(async (o: { account?: string }) => {
    const rows = await withCore(program, async (core) => core.accounts.listApiKeys(await resolveAccount(core, o.account)));
    output(program, rows, rows.map((r) => ({ ...r, revoked_at: r.revoked_at ? new Date(r.revoked_at).toISOString() : '' })));
  });
  key.command('revoke <id>').description('revoke an API key').option('--account <id>', 'account id')
    .action(async (id: string, o: { account?: string }) => {
      await withCore(program, async (core) => core.accounts.revokeApiKey(await resolveAccount(core, o.account), id));
      output(program, { revoked: id });
    });
}
