import type { Core } from '../core/index.js';
import { randomToken } from '../domain/ids.js';

/** What first start created; the secrets are shown once and never stored in clear. */
export interface BootstrapResult {
  created: boolean;
  accountId: string;
  login?: { email: string; password: string };
  apiKey?: string;
}

/**
 * On first start (no account yet) creates an account, an admin console user with a random
 * password and an admin API key. Later starts create nothing and reveal no secret.
 */
export async function bootstrap(core: Core, opts: { accountName?: string; adminEmail?: string } = {}): Promise<BootstrapResult> {
  const existing = await core.accounts.listAccounts();
  if (existing.length) return { created: false, accountId: existing[0].id };
  const account = await core.accounts.createAccount(opts.accountName ?? 'Default account');
  const email = opts.adminEmail ?? 'admin@tegami.localhost';
  const password = randomToken(15);
  await core.accounts.createUser(account.id, email, password, 'admin');
  const key = await core.accounts.createApiKey(account.id, 'first key', ['admin'], 'bootstrap');
  return { created: true, accountId: account.id, login: { email, password }, apiKey: key.key };
}
