import type { Kysely } from 'kysely';
import type { DB } from '../../src/store/types.js';
import { parseAddress } from '../../src/domain/address.js';

/**
 * Test data written straight into the store, for tests whose subject is not list management
 * (the lists/contacts tests cover the API that normally writes these rows).
 */
export async function seedList(db: Kysely<DB>, accountId: string, name: string, addresses: string[], opts: { status?: (i: number) => string; attributes?: (i: number) => object } = {}) {
  const id = `lst_${name.replace(/\W/g, '').toLowerCase()}${Math.random().toString(36).slice(2, 8)}`;
  const now = Date.now();
  await db.insertInto('lists').values({ id, account_id: accountId, name, label: id.replace(/_/g, '-'), description: '', created_at: now, updated_at: now }).execute();
  for (let i = 0; i < addresses.length; i += 500) {
    const chunk = addresses.slice(i, i + 500);
    const rows = await db.insertInto('contacts').values(chunk.map((a, j) => {
      const p = parseAddress(a);
      return { account_id: accountId, address: p.address, address_key: p.key, attributes: JSON.stringify(opts.attributes?.(i + j) ?? { name: `Name ${i + j}` }), created_at: now, updated_at: now };
    })).onConflict((oc) => oc.columns(['account_id', 'address_key']).doUpdateSet({ updated_at: now })).returning(['id']).execute();
    await db.insertInto('subscriptions').values(rows.map((r, j) => ({
      account_id: accountId, list_id: id, contact_id: Number(r.id), status: opts.status?.(i + j) ?? 'subscribed',
      consent_source: 'test', consent_at: now, consent_ip: '192.0.2.1', confirmed_at: now, unsubscribed_at: null, created_at: now, updated_at: now,
    }))).execute();
  }
  return { id, name };
}
