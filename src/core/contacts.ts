import { isIP } from 'node:net';
import type { Deps } from '../app/deps.js';
import { parseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { listsRepo } from '../store/lists-repo.js';

/** Consent evidence for a subscription (R-CONSENT-1). */
export interface Consent {
  source?: string | null;
  at?: number | null;
  ip?: string | null;
  confirmed_at?: number | null;
}

/** Largest serialised attributes object of a contact. */
export const MAX_ATTR_BYTES = 64 * 1024;

/** Validates a contact's attributes: a JSON object of at most 64 KB with short keys. */
export function checkAttributes(a: unknown): Record<string, unknown> {
  if (a === undefined || a === null) return {};
  if (typeof a !== 'object' || Array.isArray(a)) fail('E_VALIDATION', 'attributes must be a JSON object');
  for (const k of Object.keys(a as object)) if (!k || k.length > 100) fail('E_VALIDATION', 'attribute names: 1-100 characters');
  if (Buffer.byteLength(JSON.stringify(a)) > MAX_ATTR_BYTES) fail('E_TOO_LARGE', 'attributes: at most 64 KB');
  return a as Record<string, unknown>;
}

/** Checks consent evidence (R-CONSENT-1): an IP that is an IP, times that are epoch milliseconds. */
export function checkConsent(c: Consent | undefined): Consent {
  if (!c) return {};
  if (c.ip && isIP(c.ip) === 0) fail('E_VALIDATION', 'consent.ip is not an IP address');
  for (const k of ['at', 'confirmed_at'] as const) {
    const v = c[k];
    if (v !== undefined && v !== null && (!Number.isSafeInteger(v) || v < 0)) fail('E_VALIDATION', `consent.${k} must be epoch milliseconds`);
  }
  if (c.source && (c.source.length > 200 || /[\r\n\0]/.test(c.source))) fail('E_VALIDATION', 'consent.source: at most 200 characters, no line breaks');
  return c;
}

/** Contacts and subscriptions (issue 2 item 7). */
export function contactsCore(deps: Deps) {
  const repo = contactsRepo(deps.store);
  const lists = listsRepo(deps.store);
  const now = () => deps.clock.now();
  async function must(accountId: string, id: number) {
    const c = await repo.get(accountId, id);
    if (!c) fail('E_NOT_FOUND', 'contact not found');
    return c;
  }
  const view = async (accountId: string, id: number) => {
    const c = await must(accountId, id);
    return { id: c.id, address: c.address, attributes: JSON.parse(c.attributes), created_at: c.created_at, updated_at: c.updated_at, subscriptions: await repo.subscriptions(accountId, c.id) };
  };

  return {
    /**
     * Creates or updates a contact by address; optional subscriptions with consent. An existing
     * subscription is never changed here: an unsubscribed one stays so and is reported in
     * `kept_unsubscribed` (R-UNSUB-12); only setSubscription with confirmed_at re-subscribes.
     */
    async upsert(accountId: string, input: { email: string; attributes?: unknown; lists?: Array<{ list_id: string; consent?: Consent }> }) {
      const addr = parseAddress(input.email, 'email');
      const attributes = checkAttributes(input.attributes);
      for (const l of input.lists ?? []) checkConsent(l.consent);
      const t = now();
      const kept: string[] = [];
      const id = await deps.store.db.transaction().execute(async (tx) => {
        const r = contactsRepo({ ...deps.store, db: tx });
        const existing = await r.byKey(accountId, addr.key);
        const merged = existing ? { ...JSON.parse(existing.attributes), ...attributes } : attributes;
        const [row] = await r.upsert([{ account_id: accountId, address: addr.address, address_key: addr.key, attributes: JSON.stringify(merged), created_at: t, updated_at: t }]);
        for (const s of input.lists ?? []) {
          if (!(await listsRepo({ ...deps.store, db: tx }).get(accountId, s.list_id))) fail('E_NOT_FOUND', `list ${s.list_id} not found`);
          const [prev] = await r.subscriptionsFor(s.list_id, [Number(row.id)]);
          if (prev?.status === 'unsubscribed') kept.push(s.list_id);
          await r.insertSubscriptions([{
            account_id: accountId, list_id: s.list_id, contact_id: Number(row.id), status: 'subscribed', consent_source: s.consent?.source ?? 'api',
            consent_at: s.consent?.at ?? t, consent_ip: s.consent?.ip ?? null, confirmed_at: s.consent?.confirmed_at ?? null, unsubscribed_at: null, created_at: t, updated_at: t,
          }]);
        }
        return Number(row.id);
      });
      return { ...(await view(accountId, id)), kept_unsubscribed: kept };
    },
    get: view,
    /** Keyset page of distinct contacts subscribed to any of the lists (for campaign planning; flat memory). */
    pageSubscribers: repo.pageSubscribers,
    list: (accountId: string, f: { after?: number; limit: number; prefix?: string }) => repo.list(accountId, f),
    async updateAttributes(accountId: string, id: number, attributes: unknown) {
      await must(accountId, id);
      await repo.updateAttributes(accountId, id, JSON.stringify(checkAttributes(attributes)), now());
      return view(accountId, id);
    },
    async remove(accountId: string, id: number) {
      await must(accountId, id);
      // The suppression ledger is keyed by address, so deleting a contact never clears a suppression.
      await deps.store.db.transaction().execute(async (tx) => {
        const r = contactsRepo({ ...deps.store, db: tx });
        await r.removeSubscriptions(accountId, id);
        await r.remove(accountId, id);
      });
    },
    /**
     * Sets a subscription's status. Re-subscribing an unsubscribed contact needs fresh confirmed
     * opt-in evidence (`confirmed_at`), never an import or a plain upsert (R-UNSUB-12, R-CONSENT-1).
     */
    async setSubscription(accountId: string, id: number, listId: string, status: 'subscribed' | 'unsubscribed' | 'pending', consent: Consent = {}) {
      await must(accountId, id);
      checkConsent(consent);
      if (!(await lists.get(accountId, listId))) fail('E_NOT_FOUND', 'list not found');
      const t = now();
      const current = (await repo.subscriptions(accountId, id)).find((s) => s.list_id === listId);
      if (!current) {
        await repo.insertSubscriptions([{
          account_id: accountId, list_id: listId, contact_id: id, status, consent_source: consent.source ?? 'api', consent_at: consent.at ?? t,
          consent_ip: consent.ip ?? null, confirmed_at: consent.confirmed_at ?? null, unsubscribed_at: status === 'unsubscribed' ? t : null, created_at: t, updated_at: t,
        }]);
      } else {
        if (current.status === 'unsubscribed' && status === 'subscribed' && !consent.confirmed_at) {
          fail('E_STATE', 'this contact unsubscribed: re-subscribing needs confirmed opt-in evidence (confirmed_at) (R-UNSUB-12)');
        }
        await repo.setSubscription(accountId, listId, id, {
          status, updated_at: t, unsubscribed_at: status === 'unsubscribed' ? t : null,
          ...(status === 'subscribed' ? { consent_source: consent.source ?? current.consent_source, consent_at: consent.at ?? current.consent_at, consent_ip: consent.ip ?? current.consent_ip, confirmed_at: consent.confirmed_at ?? current.confirmed_at } : {}),
        });
      }
      return view(accountId, id);
    },
  };
}

/** The contacts core's type. */
export type ContactsCore = ReturnType<typeof contactsCore>;
