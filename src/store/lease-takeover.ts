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
