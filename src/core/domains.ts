import { getDomain } from 'tldts';
import type { Deps } from '../app/deps.js';
import { toALabel } from '../domain/address.js';
import { dnsRecords, formatZone } from '../domain/dns-records.js';
import { fail } from '../domain/errors.js';
import { isFreemailDomain } from '../domain/freemail.js';
import { newId } from '../domain/ids.js';
import type { SigningKeys } from '../render/dkim.js';
import { domainsRepo, type DomainRow } from '../store/domains-repo.js';
import { generateKeyPairRows, orderKeys, privateKeyOf } from './dkim-keys.js';

/** Options when adding a domain. */
export interface AddDomainOptions {
  returnPathDomain?: string;
  unsubscribeHost?: string | null;
  testMode?: boolean;
}

function host(name: string, field: string): string {
  const a = toALabel(name);
  if (!a) fail('E_VALIDATION', `${field}: not a valid domain name`);
  return a;
}

/** Sending domains with DKIM keys (issue 2 item 6). */
export function domainsCore(deps: Deps) {
  const repo = domainsRepo(deps.store);
  const now = () => deps.clock.now();
  const keysOf = async (accountId: string, domainId: string) => orderKeys(await repo.keys(accountId, domainId));
  const inTx = <T>(fn: (r: ReturnType<typeof domainsRepo>) => Promise<T>) =>
    deps.store.db.transaction().execute((tx) => fn(domainsRepo({ ...deps.store, db: tx })));

  /** By id, else by name (U-label or A-label); always within the account, so others' ids are 404. */
  async function must(accountId: string, idOrName: string): Promise<DomainRow> {
    const d = (await repo.get(accountId, idOrName)) ?? (await repo.byName(accountId, toALabel(idOrName) ?? idOrName));
    if (!d) fail('E_NOT_FOUND', 'domain not found');
    return d;
  }

  async function show(accountId: string, idOrName: string) {
    const d = await must(accountId, idOrName);
    const keys = (await keysOf(accountId, d.id)).map((k) => ({
      id: k.id, selector: k.selector, algorithm: k.algorithm, public_key: k.public_key, status: k.status, created_at: k.created_at, retired_at: k.retired_at,
    }));
    return { ...publicDomain(d), keys };
  }

  return {
    /** Adds a domain and generates its RSA-2048 and Ed25519 keys in one transaction. */
    async addDomain(accountId: string, name: string, opts: AddDomainOptions = {}) {
      const domain = host(name, 'name');
      if (isFreemailDomain(domain)) fail('E_FREEMAIL_DOMAIN', `${domain} belongs to a mailbox provider (R-AUTH-12)`);
      const org = getDomain(domain, { allowPrivateDomains: true });
      if (!org) fail('E_VALIDATION', `name: ${domain} has no registrable (organisational) domain`);
      const rp = opts.returnPathDomain ? host(opts.returnPathDomain, 'return_path_domain') : `bounces.${domain}`;
      // SPF alignment needs the return path inside the From organisational domain (R-AUTH-4).
      if (getDomain(rp, { allowPrivateDomains: true }) !== org) fail('E_VALIDATION', `return_path_domain must be within ${org} (R-AUTH-4)`);
      const unsub = opts.unsubscribeHost ? host(opts.unsubscribeHost, 'unsubscribe_host') : null;
      if (await repo.byName(accountId, domain)) fail('E_CONFLICT', `${domain} is already a domain of this account`);
      const id = newId('dom_');
      const t = now();
      const keys = await generateKeyPairRows(deps.masterKey, accountId, id, t, new Set());
      await inTx(async (r) => {
        await r.insert({
          id, account_id: accountId, name: domain, return_path_domain: rp, unsubscribe_host: unsub, status: 'pending',
          test_mode: opts.testMode ? 1 : 0, check_json: null, checked_at: null, created_at: t, verified_at: null,
        });
        for (const k of keys) await r.insertKey(k);
      });
      return show(accountId, id);
    },
    /** A domain with its keys (public parts only, never private keys). */
    show,
    /** The account's domains. */
    list: async (accountId: string) => (await repo.list(accountId)).map(publicDomain),
    /** Changes the unsubscribe host or the test-mode flag. */
    async update(accountId: string, idOrName: string, patch: { unsubscribeHost?: string | null; testMode?: boolean }) {
      const d = await must(accountId, idOrName);
      const set = {
        ...(patch.unsubscribeHost !== undefined ? { unsubscribe_host: patch.unsubscribeHost ? host(patch.unsubscribeHost, 'unsubscribe_host') : null } : {}),
        ...(patch.testMode !== undefined ? { test_mode: patch.testMode ? 1 : 0 } : {}),
      };
      if (Object.keys(set).length) await repo.update(accountId, d.id, set);
      return show(accountId, d.id);
    },
    /**
     * Deletes a domain nobody is sending from. Its key rows go with it: dkim_keys.domain_id is a
     * foreign key, and an encrypted private key of a deleted domain has no use left.
     */
    async remove(accountId: string, idOrName: string) {
      const d = await must(accountId, idOrName);
      await inTx(async (r) => {
        if (await r.queuedFor(accountId, d.id)) fail('E_STATE', 'messages from this domain are still queued');
        await r.removeKeys(accountId, d.id);
        await r.remove(accountId, d.id);
      });
    },
    /** The records to publish, as data and as zone text. */
    async dns(accountId: string, idOrName: string) {
      const d = await must(accountId, idOrName);
      const records = dnsRecords({
        domain: d.name, returnPathDomain: d.return_path_domain, unsubscribeHost: d.unsubscribe_host, keys: await keysOf(accountId, d.id),
        mxHost: deps.config.smtp.hostname, publicHost: new URL(deps.config.http.unsubscribeUrl || deps.config.http.publicUrl).hostname,
        spfInclude: deps.config.dns.spfInclude, sendingIps: deps.config.dns.sendingIps,
      });
      return { domain: d.name, records, zone: formatZone(records) };
    },
    /** New active pair; the previous active pair keeps verifying as `retiring` until retired. */
    async rotateKeys(accountId: string, idOrName: string) {
      const d = await must(accountId, idOrName);
      const before = await repo.keys(accountId, d.id);
      const fresh = await generateKeyPairRows(deps.masterKey, accountId, d.id, now(), new Set(before.map((k) => k.selector)));
      await inTx(async (r) => {
        const existing = await r.keys(accountId, d.id);
        // Another rotation committed while the keys were generated: refuse rather than hit the unique index.
        if (existing.length !== before.length) fail('E_CONFLICT', 'the keys of this domain changed meanwhile; retry');
        const active = existing.filter((k) => k.status === 'active').map((k) => k.id);
        if (active.length) await r.setKeyStatus(accountId, d.id, active, 'retiring', null);
        for (const k of fresh) await r.insertKey(k);
      });
      return show(accountId, d.id);
    },
    /** Stops publishing a retiring key (by id or selector); the active pair cannot be retired. */
    async retireKey(accountId: string, idOrName: string, keyId: string) {
      const d = await must(accountId, idOrName);
      const k = (await repo.keys(accountId, d.id)).find((x) => x.id === keyId || x.selector === keyId);
      if (!k) fail('E_NOT_FOUND', 'key not found');
      if (k.status === 'active') fail('E_STATE', 'rotate first: the active key signs outgoing mail');
      if (k.status !== 'retired') await repo.setKeyStatus(accountId, d.id, [k.id], 'retired', now());
      return show(accountId, d.id);
    },
    /** The account's domain row for a From domain, or undefined (the send path's gate, R-AUTH-12). */
    findDomainForAddress: (accountId: string, domain: string) => repo.byName(accountId, toALabel(domain) ?? domain.toLowerCase()),
    /** Decrypted signing keys of the newest active pair, as cached KeyObjects. */
    async getSigningKeys(accountId: string, domainId: string): Promise<SigningKeys> {
      const d = await must(accountId, domainId);
      const keys = (await keysOf(accountId, d.id)).filter((k) => k.status === 'active');
      const rsa = keys.filter((k) => k.algorithm === 'rsa-sha256').pop();
      const ed = keys.filter((k) => k.algorithm === 'ed25519-sha256').pop();
      if (!rsa || !ed) fail('E_DOMAIN_UNVERIFIED', `${d.name} has no active DKIM key pair`);
      return {
        domain: d.name,
        rsa: { selector: rsa.selector, privateKey: privateKeyOf(deps.masterKey, rsa) },
        ed25519: { selector: ed.selector, privateKey: privateKeyOf(deps.masterKey, ed) },
      };
    },
  };
}

/** The API shape of a domain. */
export function publicDomain(d: DomainRow) {
  return {
    id: d.id, name: d.name, return_path_domain: d.return_path_domain, unsubscribe_host: d.unsubscribe_host, status: d.status,
    test_mode: !!d.test_mode, created_at: d.created_at, verified_at: d.verified_at, checked_at: d.checked_at,
  };
}
