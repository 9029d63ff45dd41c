import { createHash } from 'node:crypto';
import type { Deps } from '../app/deps.js';
import { parseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { newId, randomToken } from '../domain/ids.js';
import { hashPassword, safeEqual, verifyPassword } from '../domain/secrets.js';
import { consoleRepo } from '../store/console-repo.js';
import { ROLES, type Principal, type Role, type Scope } from './accounts.js';
import { accountsRepo } from '../store/accounts-repo.js';

/** What each console role may do through the API: viewer reads, editor writes, admin administers. */
export const ROLE_SCOPES: Record<Role, Scope[]> = { viewer: ['read'], editor: ['read', 'write'], admin: ['admin'] };

/** A console user as the API shows it (never the hash). */
export interface ConsoleUser {
  id: string; account_id: string; email: string; role: string; created_at: number; disabled_at: number | null; last_login_at: number | null;
}

/** A live session resolved from its cookie token. */
export interface ConsoleSession {
  user: ConsoleUser;
  csrf: string;
  expiresAt: number;
  principal: Principal;
}

const MIN_PASSWORD = 12;
const sha = (token: string) => createHash('sha256').update(token).digest('base64url');
// Spent on unknown addresses so a failed login takes as long whether or not the user exists.
let dummyHash: Promise<string> | null = null;

function checkPassword(pw: string): void {
  if (typeof pw !== 'string' || pw.length < MIN_PASSWORD) fail('E_VALIDATION', `password must have at least ${MIN_PASSWORD} characters`);
  if (pw.length > 1024) fail('E_VALIDATION', 'password must have at most 1024 characters');
}
function checkRole(role: string): asserts role is Role {
  if (!ROLES.includes(role as Role)) fail('E_VALIDATION', `role must be one of ${ROLES.join(', ')}`);
}

/** Console users, password login with a rate limit, and cookie sessions (issue 8 item 1). */
export function consoleUsersCore(deps: Deps) {
  const repo = consoleRepo(deps.store);
  const now = () => deps.clock.now();
  const cfg = () => deps.config.console;

  async function mustUser(accountId: string, id: string): Promise<ConsoleUser> {
    const u = await repo.getUser(accountId, id);
    if (!u) fail('E_NOT_FOUND', 'user not found');
    return u;
  }
  /** An account keeps at least one enabled admin, or nobody could manage its users again. */
  async function keepAnAdmin(accountId: string, u: ConsoleUser): Promise<void> {
    if (u.role === 'admin' && u.disabled_at === null && (await repo.countActiveAdmins(accountId)) <= 1) {
      fail('E_STATE', 'this is the last enabled admin of the account');
    }
  }
  /** Throws E_RATE_LIMITED when the address or the IP has too many recent failures. */
  async function rateLimit(keys: string[]): Promise<void> {
    const windowMs = cfg().loginWindowMinutes * 60_000;
    const since = now() - windowMs;
    for (const key of keys) {
      if ((await repo.countFailures(key, since)) >= cfg().loginMaxFailures) {
        const oldest = (await repo.oldestFailure(key, since)) ?? now();
        const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - now()) / 1000));
        fail('E_RATE_LIMITED', `too many failed logins; try again in ${retryAfter} s`, { retry_after: retryAfter });
      }
    }
  }

  return {
    ROLE_SCOPES,
    /** Checks the password and opens a session; failures count towards the per-address and per-IP limit. */
    async login(emailIn: string, password: string, meta: { ip?: string; userAgent?: string } = {}) {
      const email = String(emailIn ?? '').trim().toLowerCase();
      const keys = [`email:${email}`, ...(meta.ip ? [`ip:${meta.ip}`] : [])];
      await rateLimit(keys);
      const row = email ? await repo.getUserByEmail(email) : undefined;
      const ok = row
        ? await verifyPassword(String(password ?? ''), row.password_hash)
        : (await verifyPassword(String(password ?? ''), await (dummyHash ??= hashPassword(randomToken(16)))), false);
      if (!row || !ok || row.disabled_at !== null) {
        await repo.insertFailures(keys, now());
        fail('E_LOGIN_FAILED');
      }
      await repo.clearFailures(`email:${email}`);
      const t = now();
      await repo.pruneFailures(t - cfg().loginWindowMinutes * 60_000);
      await repo.deleteExpiredSessions(t);
      await repo.updateUser(row.account_id, row.id, { last_login_at: t });
      const token = randomToken(32);
      const csrf = randomToken(24);
      const expiresAt = t + cfg().sessionHours * 3_600_000;
      await repo.insertSession({
        id: sha(token), account_id: row.account_id, user_id: row.id, csrf, ip: meta.ip ?? null,
        user_agent: meta.userAgent ? meta.userAgent.slice(0, 500) : null, created_at: t, last_seen_at: t, expires_at: expiresAt,
      });
      return { token, csrf, expiresAt, user: await mustUser(row.account_id, row.id) };
    },
    /** Resolves a cookie token to its session, or null when unknown, expired or the user is disabled. */
    async authenticate(token: string): Promise<ConsoleSession | null> {
      if (!token || token.length > 200) return null;
      const s = await repo.getSession(sha(token));
      if (!s || s.expires_at <= now()) return null;
      const user = await repo.getUserById(s.user_id);
      if (!user || user.disabled_at !== null || user.account_id !== s.account_id) return null;
      if (now() - s.last_seen_at > 60_000) await repo.touchSession(s.id, now());
      const role = user.role as Role;
      return {
        user, csrf: s.csrf, expiresAt: s.expires_at,
        principal: { accountId: user.account_id, scopes: ROLE_SCOPES[role] ?? [], actor: `user:${user.id}` },
      };
    },
    /** True when the presented CSRF token is the session's. */
    csrfMatches: (session: ConsoleSession, presented: string | undefined) => !!presented && safeEqual(presented, session.csrf),
    logout: async (token: string) => { await repo.deleteSession(sha(token)); },

    list: (accountId: string): Promise<ConsoleUser[]> => repo.listUsers(accountId),
    get: mustUser,
    /** Adds a user; without a password one is generated and returned once. */
    async add(accountId: string, input: { email: string; role: string; password?: string }) {
      checkRole(input.role);
      const password = input.password ?? randomToken(15);
      checkPassword(password);
      const email = parseAddress(input.email, 'email').address.toLowerCase();
      if (await repo.getUserByEmail(email)) fail('E_CONFLICT', 'a user with this e-mail exists');
      await accountsRepo(deps.store).insertUser({
        id: newId('usr_'), account_id: accountId, email, password_hash: await hashPassword(password), role: input.role,
        created_at: now(), disabled_at: null, last_login_at: null,
      }).catch((e) => {
        // Two concurrent adds of one address: the unique index decides.
        if (/unique|duplicate/i.test(String((e as Error).message))) fail('E_CONFLICT', 'a user with this e-mail exists');
        throw e;
      });
      const user = (await repo.getUserByEmail(email))!;
      return { user: await mustUser(accountId, user.id), password: input.password ? undefined : password };
    },
    /** Changes role, password or enabled state; a password change or disable ends the user's sessions. */
    async update(accountId: string, id: string, patch: { role?: string; password?: string; disabled?: boolean }) {
      const u = await mustUser(accountId, id);
      const set: { role?: string; password_hash?: string; disabled_at?: number | null } = {};
      if (patch.role !== undefined) {
        checkRole(patch.role);
        if (patch.role !== 'admin') await keepAnAdmin(accountId, u);
        set.role = patch.role;
      }
      if (patch.password !== undefined) {
        checkPassword(patch.password);
        set.password_hash = await hashPassword(patch.password);
      }
      if (patch.disabled !== undefined) {
        if (patch.disabled) await keepAnAdmin(accountId, u);
        set.disabled_at = patch.disabled ? (u.disabled_at ?? now()) : null;
      }
      if (!Object.keys(set).length) fail('E_VALIDATION', 'nothing to change: role, password or disabled');
      await deps.store.db.transaction().execute(async (tx) => {
        const r = consoleRepo({ ...deps.store, db: tx });
        await r.updateUser(accountId, id, set);
        if (set.password_hash || set.disabled_at) await r.deleteUserSessions(id);
      });
      return mustUser(accountId, id);
    },
    /**
     * A user changes their own password: the current one must match (failures count towards the
     * login limit), and every session of the user ends, this one included.
     */
    async changeOwnPassword(userId: string, current: string, next: string, meta: { ip?: string } = {}) {
      const u = await repo.getUserById(userId);
      if (!u) fail('E_NOT_FOUND', 'user not found');
      const keys = [`email:${u.email}`, ...(meta.ip ? [`ip:${meta.ip}`] : [])];
      await rateLimit(keys);
      const row = (await repo.getUserByEmail(u.email))!;
      if (!(await verifyPassword(String(current ?? ''), row.password_hash))) {
        await repo.insertFailures(keys, now());
        fail('E_LOGIN_FAILED', 'the current password is wrong');
      }
      checkPassword(next);
      if (next === current) fail('E_VALIDATION', 'the new password must differ from the current one');
      await this.update(u.account_id, u.id, { password: next });
    },
    /** Finds a user of the account by e-mail (CLI). */
    async byEmail(accountId: string, email: string) {
      const u = await repo.getUserByEmail(parseAddress(email, 'email').address.toLowerCase());
      if (!u || u.account_id !== accountId) fail('E_NOT_FOUND', 'user not found');
      return mustUser(accountId, u.id);
    },
  };
}

/** The console users core's type. */
export type ConsoleUsersCore = ReturnType<typeof consoleUsersCore>;
