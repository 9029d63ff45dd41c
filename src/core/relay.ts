import { BlockList, isIP } from 'node:net';
import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId, randomToken } from '../domain/ids.js';
import { hashToken, safeEqual } from '../domain/secrets.js';
import { validateFilter } from '../inbound/relay/filters.js';
import { relayCredentialsRepo, type SmtpCredentialRow } from '../store/relay-credentials-repo.js';
import { relayFiltersRepo, type RelayFilterRow } from '../store/relay-filters-repo.js';
import { relayMessagesRepo } from '../store/relay-messages-repo.js';

/** Who is relaying: the credential a session authenticated with (AUTH, or its client address). */
export interface RelayPrincipal {
  accountId: string;
  credentialId: string;
  username: string;
  ratePerMinute: number;
  via: 'auth' | 'ip';
}

/** Options of an SMTP credential. */
export interface CredentialInput {
  name?: string;
  rate_per_minute?: number | null;
  /** IPs or CIDRs the credential may be used from; empty = anywhere. */
  allowed_ips?: string[];
  /** Connections from allowed_ips relay as this credential without AUTH (for clients that cannot AUTH). */
  ip_auth?: boolean;
}

/** A filter as the API takes it. */
export interface FilterInput {
  name?: string;
  header: string;
  match: 'exact' | 'regex';
  value: string;
  list_id: string;
  /** 1-based place in the evaluation order; default: last. */
  position?: number;
}

const USER_RE = /^smtp_[0-9a-z]{26}$/;
const MAX_FILTERS = 100;

/** `::ffff:1.2.3.4` -> `1.2.3.4`. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function validateIps(list: unknown): string[] {
  if (!Array.isArray(list) || list.length > 100) fail('E_VALIDATION', 'allowed_ips: at most 100 IPs or CIDRs');
  return list.map((e, i) => {
    const [addr, prefix, extra] = String(e).trim().split('/');
    const v = isIP(addr);
    const max = v === 4 ? 32 : 128;
    if (!v || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))) fail('E_VALIDATION', `allowed_ips[${i}]: not an IP address or CIDR`);
    return prefix === undefined ? addr : `${addr}/${Number(prefix)}`;
  });
}

/**
 * Address authentication may not cover the Internet: a credential with ip_auth and 0.0.0.0/0 would
 * be an open relay for the account's domains (R-INFRA-7). Networks must be /16 (IPv4) or /48 (IPv6) or narrower.
 */
function assertNarrow(allowed: string[]): void {
  if (!allowed.length) fail('E_VALIDATION', 'ip_auth needs allowed_ips: address authentication must name the addresses (R-INFRA-7)');
  for (const e of allowed) {
    const [a, p] = e.split('/');
    if (p !== undefined && Number(p) < (isIP(a) === 4 ? 16 : 48)) fail('E_VALIDATION', `allowed_ips: ${e} is too wide for ip_auth (at most /16 IPv4, /48 IPv6; R-INFRA-7)`);
  }
}

/** True when the address is in the credential's allowed list (an empty list allows every address). */
export function ipAllowed(allowedJson: string, ip: string): boolean {
  const list = JSON.parse(allowedJson) as string[];
  if (!list.length) return true;
  const bl = new BlockList();
  for (const e of list) {
    const [a, p] = e.split('/');
    const type = isIP(a) === 6 ? 'ipv6' : 'ipv4';
    if (p === undefined) bl.addAddress(a, type);
    else bl.addSubnet(a, Number(p), type);
  }
  const addr = plainIp(ip);
  return bl.check(addr, isIP(addr) === 6 ? 'ipv6' : 'ipv4');
}

function name(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v.trim() || v.length > 200 || /[\r\n\0]/.test(v)) fail('E_VALIDATION', `${field}: 1-200 characters`);
  return v.trim();
}

function rate(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 1_000_000) fail('E_VALIDATION', 'rate_per_minute: an integer 1-1,000,000');
  return v as number;
}

/** The public shape of a credential: never the hash. */
export function publicCredential(c: Omit<SmtpCredentialRow, 'salt' | 'hash' | 'account_id'>) {
  return {
    id: c.id, name: c.name, username: c.username, rate_per_minute: c.rate_per_minute, allowed_ips: JSON.parse(c.allowed_ips) as string[],
    ip_auth: !!c.ip_auth, created_at: c.created_at, created_by: c.created_by, last_used_at: c.last_used_at, revoked_at: c.revoked_at,
  };
}

/** SMTP relay (issue 7): per-account SMTP credentials, ordered filters, and the relay's counts. */
export function relayCore(deps: Deps) {
  const creds = relayCredentialsRepo(deps.store);
  const filters = relayFiltersRepo(deps.store);
  const now = () => deps.clock.now();
  const principalOf = (c: SmtpCredentialRow, via: 'auth' | 'ip'): RelayPrincipal => ({
    accountId: c.account_id, credentialId: c.id, username: c.username, ratePerMinute: c.rate_per_minute ?? deps.config.relay.ratePerMinute, via,
  });
  // The relay reads the filters on every message: cached for 2 s (other processes see a change
  // within that), dropped at once by this process's own changes.
  const filterCache = new Map<string, { at: number; rows: Promise<RelayFilterRow[]> }>();
  const inTx = async <T>(fn: (r: ReturnType<typeof relayFiltersRepo>) => Promise<T>) => {
    try {
      return await deps.store.db.transaction().execute((tx) => fn(relayFiltersRepo({ ...deps.store, db: tx })));
    } finally {
      filterCache.clear();
    }
  };

  async function mustFilter(accountId: string, id: string): Promise<RelayFilterRow> {
    const f = await filters.get(accountId, id);
    if (!f) fail('E_NOT_FOUND', 'relay filter not found');
    return f;
  }

  /** Writes positions 1..n in the given order. */
  async function renumber(r: ReturnType<typeof relayFiltersRepo>, accountId: string, ordered: RelayFilterRow[]) {
    for (const [i, f] of ordered.entries()) if (f.position !== i + 1) await r.setPosition(accountId, f.id, i + 1, now());
  }

  return {
    /** Creates a credential; the password is returned once and only its salted hash is stored (issue 7 item 1). */
    async createCredential(accountId: string, input: CredentialInput, createdBy: string | null = null) {
      const id = newId('cred_');
      const username = `smtp_${newId()}`;
      const password = randomToken(24);
      const salt = randomToken(16);
      const allowed = validateIps(input.allowed_ips ?? []);
      if (input.ip_auth) assertNarrow(allowed);
      const row: SmtpCredentialRow = {
        id, account_id: accountId, name: name(input.name ?? 'smtp', 'name'), username, salt, hash: hashToken(salt, password),
        rate_per_minute: rate(input.rate_per_minute), allowed_ips: JSON.stringify(allowed), ip_auth: input.ip_auth ? 1 : 0,
        created_at: now(), created_by: createdBy, last_used_at: null, revoked_at: null,
      };
      await creds.insert(row);
      return { ...publicCredential(row), password };
    },
    listCredentials: async (accountId: string) => (await creds.list(accountId)).map(publicCredential),
    async getCredential(accountId: string, id: string) {
      const c = await creds.get(accountId, id);
      if (!c) fail('E_NOT_FOUND', 'SMTP credential not found');
      return publicCredential(c);
    },
    async updateCredential(accountId: string, id: string, input: CredentialInput) {
      const c = await creds.get(accountId, id);
      if (!c) fail('E_NOT_FOUND', 'SMTP credential not found');
      const allowed = input.allowed_ips !== undefined ? validateIps(input.allowed_ips) : (JSON.parse(c.allowed_ips) as string[]);
      const ipAuth = input.ip_auth !== undefined ? input.ip_auth : !!c.ip_auth;
      if (ipAuth) assertNarrow(allowed);
      await creds.update(accountId, id, {
        ...(input.name !== undefined ? { name: name(input.name, 'name') } : {}),
        ...(input.rate_per_minute !== undefined ? { rate_per_minute: rate(input.rate_per_minute) } : {}),
        allowed_ips: JSON.stringify(allowed), ip_auth: ipAuth ? 1 : 0,
      });
      return publicCredential((await creds.get(accountId, id))!);
    },
    /** Revokes a credential: AUTH with it fails from now on, and open sessions are refused at their next MAIL FROM. */
    async revokeCredential(accountId: string, id: string) {
      const r = await creds.revoke(accountId, id, now());
      if (!Number(r.numUpdatedRows)) fail('E_NOT_FOUND', 'SMTP credential not found or already revoked');
    },
    /** AUTH PLAIN/LOGIN: the principal, or null (unknown user, wrong password, revoked, or not from an allowed address). */
    async authenticate(username: string, password: string, remoteIp: string): Promise<RelayPrincipal | null> {
      if (!USER_RE.test(username) || typeof password !== 'string' || password.length > 200) return null;
      const c = await creds.byUsername(username);
      if (!c || c.revoked_at !== null) return null;
      if (!safeEqual(hashToken(c.salt, password), c.hash)) return null;
      if (!ipAllowed(c.allowed_ips, remoteIp)) return null;
      if (!c.last_used_at || now() - c.last_used_at > 60_000) await creds.touch(c.id, now());
      return principalOf(c, 'auth');
    },
    /** A credential with ip_auth whose allowed_ips hold the client address, or null. */
    async principalForIp(remoteIp: string): Promise<RelayPrincipal | null> {
      const c = (await creds.ipAuth()).find((x) => ipAllowed(x.allowed_ips, remoteIp));
      return c ? principalOf(c, 'ip') : null;
    },
    /** True while the credential is not revoked (checked again at each MAIL FROM). */
    async credentialLive(accountId: string, id: string): Promise<boolean> {
      const c = await creds.get(accountId, id);
      return !!c && c.revoked_at === null;
    },

    listFilters: (accountId: string) => filters.list(accountId),
    /** The filters in evaluation order, as the relay reads them per message (cached briefly). */
    filtersForRelay(accountId: string): Promise<RelayFilterRow[]> {
      const hit = filterCache.get(accountId);
      if (hit && Date.now() - hit.at < 2000) return hit.rows;
      const rows = filters.list(accountId);
      if (filterCache.size > 10_000) filterCache.clear();
      filterCache.set(accountId, { at: Date.now(), rows });
      rows.catch(() => filterCache.delete(accountId));
      return rows;
    },
    getFilter: mustFilter,
    async createFilter(accountId: string, input: FilterInput) {
      const header = validateFilter(input);
      if (!(await filters.listExists(accountId, input.list_id))) fail('E_NOT_FOUND', 'list not found');
      const id = newId('rf_');
      await inTx(async (r) => {
        const all = await r.list(accountId);
        if (all.length >= MAX_FILTERS) fail('E_VALIDATION', `at most ${MAX_FILTERS} relay filters per account`);
        const row: RelayFilterRow = {
          id, account_id: accountId, position: all.length + 1, name: name(input.name ?? `${input.header}: ${input.value}`.slice(0, 200), 'name'),
          header, match: input.match, value: input.value, list_id: input.list_id, created_at: now(), updated_at: now(),
        };
        await r.insert(row);
        const at = Math.min(Math.max(input.position ?? all.length + 1, 1), all.length + 1);
        await renumber(r, accountId, [...all.slice(0, at - 1), row, ...all.slice(at - 1)]);
      });
      return mustFilter(accountId, id);
    },
    async updateFilter(accountId: string, id: string, patch: Partial<FilterInput>) {
      const f = await mustFilter(accountId, id);
      const next = { header: patch.header ?? f.header, match: patch.match ?? f.match, value: patch.value ?? f.value };
      const header = validateFilter(next);
      if (patch.list_id !== undefined && !(await filters.listExists(accountId, patch.list_id))) fail('E_NOT_FOUND', 'list not found');
      await inTx(async (r) => {
        await r.update(accountId, id, {
          header, match: next.match, value: next.value, list_id: patch.list_id ?? f.list_id,
          name: patch.name !== undefined ? name(patch.name, 'name') : f.name, updated_at: now(),
        });
        if (patch.position !== undefined) {
          const others = (await r.list(accountId)).filter((x) => x.id !== id);
          const at = Math.min(Math.max(patch.position, 1), others.length + 1);
          await renumber(r, accountId, [...others.slice(0, at - 1), f, ...others.slice(at - 1)]);
        }
      });
      return mustFilter(accountId, id);
    },
    async removeFilter(accountId: string, id: string) {
      await inTx(async (r) => {
        const gone = await r.remove(accountId, id);
        if (!Number(gone.numDeletedRows)) fail('E_NOT_FOUND', 'relay filter not found');
        await renumber(r, accountId, await r.list(accountId));
      });
    },

    /** Relayed recipients of the last `days` days by status, and the skipped ones by reason (seed 002 item 3). */
    async stats(accountId: string, days = 30) {
      const rows = await relayMessagesRepo(deps.store).counts(accountId, now() - days * 86_400_000);
      const byStatus: Record<string, number> = {};
      const skipped: Record<string, number> = {};
      for (const r of rows) {
        byStatus[r.status] = (byStatus[r.status] ?? 0) + Number(r.n);
        if (r.status === 'skipped') skipped[r.reason ?? 'unknown'] = (skipped[r.reason ?? 'unknown'] ?? 0) + Number(r.n);
      }
      return { days, recipients: Object.values(byStatus).reduce((a, b) => a + b, 0), by_status: byStatus, skipped_by_reason: skipped };
    },
  };
}

/** The relay core's type. */
export type RelayCore = ReturnType<typeof relayCore>;
