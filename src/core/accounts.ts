import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId, randomToken } from '../domain/ids.js';
import { hashPassword, hashToken, safeEqual } from '../domain/secrets.js';
import { parseAddress } from '../domain/address.js';
import { accountsRepo } from '../store/accounts-repo.js';

/** API key scopes; admin implies write implies read. */
export type Scope = 'read' | 'write' | 'admin';
export const SCOPES: Scope[] = ['read', 'write', 'admin'];
/** Console user roles, enforced by the API. */
export type Role = 'admin' | 'editor' | 'viewer';
export const ROLES: Role[] = ['admin', 'editor', 'viewer'];

/** Who is calling: resolved from an API key or a console session. */
export interface Principal {
  accountId: string;
  scopes: Scope[];
  /** `key:<id>` or `user:<id>`; recorded as the source of changes. */
  actor: string;
}

const KEY_RE = /^tg_(key_[0-9a-z]{26})\.([A-Za-z0-9_-]{32,})$/;

/** Accounts, API keys and users. */
export function accountsCore(deps: Deps) {
  const repo = accountsRepo(deps.store);
  const now = () => deps.clock.now();
  return {
    async createAccount(name: string) {
      if (!name || name.length > 200 || /[\r\n]/.test(name)) fail('E_VALIDATION', 'account name must be 1-200 characters');
      const row = { id: newId('acc_'), name, created_at: now() };
      await repo.insertAccount(row);
      return row;
    },
    getAccount: (id: string) => repo.getAccount(id),
    listAccounts: () => repo.listAccounts(),
    countAccounts: () => repo.countAccounts(),

    /** Creates a key; the secret is returned once and only its salted hash is stored. */
    async createApiKey(accountId: string, name: string, scopes: Scope[], createdBy: string | null = null) {
      if (!(await repo.getAccount(accountId))) fail('E_NOT_FOUND', 'account not found');
      if (!scopes.length || scopes.some((s) => !SCOPES.includes(s))) fail('E_VALIDATION', `scopes must be among ${SCOPES.join(', ')}`);
      if (!name || name.length > 200 || /[\r\n]/.test(name)) fail('E_VALIDATION', 'key name must be 1-200 characters');
      const id = newId('key_');
      const secret = randomToken(32);
      const salt = randomToken(16);
      await repo.insertKey({
        id, account_id: accountId, name, salt, hash: hashToken(salt, secret), scopes: scopes.join(','),
        created_at: now(), last_used_at: null, revoked_at: null, created_by: createdBy,
      });
      return { id, name, scopes, key: `tg_${id}.${secret}` };
    },
    listApiKeys: (accountId: string) => repo.listKeys(accountId),
    async revokeApiKey(accountId: string, id: string) {
      const r = await repo.revokeKey(accountId, id, now());
      if (!Number(r.numUpdatedRows)) fail('E_NOT_FOUND', 'API key not found or already revoked');
    },
    /** Resolves a presented key to a principal, or null (missing, malformed, wrong or revoked). */
    async authenticateKey(presented: string): Promise<Principal | null> {
      const m = KEY_RE.exec(presented);
      if (!m) return null;
      const row = await repo.getKey(m[1]);
      if (!row || row.revoked_at !== null) return null;
      if (!safeEqual(hashToken(row.salt, m[2]), row.hash)) return null;
      // last_used_at is advisory: update at most once a minute to spare the writer.
      if (!row.last_used_at || now() - row.last_used_at > 60_000) await repo.touchKey(row.id, now());
      return { accountId: row.account_id, scopes: row.scopes.split(',') as Scope[], actor: `key:${row.id}` };
    },

    async createUser(accountId: string, email: string, password: string, role: Role) {
      if (!ROLES.includes(role)) fail('E_VALIDATION', `role must be one of ${ROLES.join(', ')}`);
      if (password.length < 12) fail('E_VALIDATION', 'password must have at least 12 characters');
      const addr = parseAddress(email, 'email');
      if (!(await repo.getAccount(accountId))) fail('E_NOT_FOUND', 'account not found');
      if (await repo.getUserByEmail(addr.address.toLowerCase())) fail('E_CONFLICT', 'a user with this e-mail exists');
      const row = {
        id: newId('usr_'), account_id: accountId, email: addr.address.toLowerCase(), password_hash: await hashPassword(password),
        role, created_at: now(), disabled_at: null, last_login_at: null,
      };
      await repo.insertUser(row);
      return { id: row.id, email: row.email, role };
    },
    listUsers: (accountId: string) => repo.listUsers(accountId),
  };
}

/** The accounts core's type. */
export type AccountsCore = ReturnType<typeof accountsCore>;

/** True when the principal holds the scope (admin > write > read). */
export function hasScope(p: Principal, need: Scope): boolean {
  const rank = (s: Scope) => SCOPES.indexOf(s);
  return p.scopes.some((s) => rank(s) >= rank(need));
}
