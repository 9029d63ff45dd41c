import { sql } from 'kysely';
import type { Db } from './db.js';

/** The leased tables and the status their leased rows are in. */
export const LEASED = { messages: 'sending', campaigns: 'planning', webhook_deliveries: 'delivering' } as const;
/** A table with leases. */
export type LeasedTable = keyof typeof LEASED;

/** The distinct owners (claim tokens or process names) holding leases in `table`. */
export async function leaseOwners(store: Db, table: LeasedTable): Promise<string[]> {
  const { rows } = await sql<{ lease_owner: string }>`select distinct lease_owner from ${sql.table(table)} where status = ${LEASED[table]} and lease_owner is not null`.execute(store.db);
  return rows.map((r) => r.lease_owner);
}

/**
 * Ends the leases these owners hold in `table` now (lease_until just before `now`): the table's
 * own claim takes the rows over as after an expiry. Returns how many rows.
 */
export async function expireLeases(store: Db, table: LeasedTable, owners: string[], now: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < owners.length; i += 500) {
    const r = await sql`update ${sql.table(table)} set lease_until = ${now - 1} where status = ${LEASED[table]} and lease_owner in (${sql.join(owners.slice(i, i + 500))})`.execute(store.db);
    n += Number(r.numAffectedRows ?? 0);
  }
  return n;
}

/**
 * Moves the lease of those of `ids` that `owner` still holds in `table` to `until`; returns their
 * ids (send/lease-keeper.ts). A row another owner took over after a lapse is left out.
 */
export async function renewLeases(store: Db, table: 'messages' | 'webhook_deliveries', owner: string, ids: number[], until: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const { rows } = await sql<{ id: number }>`update ${sql.table(table)} set lease_until = ${until} where id in (${sql.join(ids.slice(i, i + 500))}) and lease_owner = ${owner} and status = ${LEASED[table]} returning id`.execute(store.db);
    for (const r of rows) out.push(Number(r.id));
  }
  return out;
}
