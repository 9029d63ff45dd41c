import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Db } from '../store/db.js';
import { expireLeases, LEASED, leaseOwners, type LeasedTable } from '../store/leases.js';
import { isDeadLocalOwner } from './process-identity.js';

/**
 * Ends at once the leases of processes of this machine that are gone (issue 11: a worker killed
 * by `kill -9`, the OOM killer or a crash, restarted by systemd): their batches, campaign plans
 * and webhook deliveries are claimed again now instead of after `worker.leaseSeconds`. Run when
 * a sending process starts. Leases of other machines, of processes still running, or of a pid
 * in use again, expire as before (process-identity.ts).
 */
export async function takeOverDeadLocalLeases(store: Db, clock: Clock, log: Pick<Logger, 'warn'>): Promise<number> {
  let total = 0;
  for (const table of Object.keys(LEASED) as LeasedTable[]) {
    const dead = (await leaseOwners(store, table)).filter(isDeadLocalOwner);
    if (!dead.length) continue;
    const n = await expireLeases(store, table, dead, clock.now());
    total += n;
    log.warn({ table, rows: n, owners: [...new Set(dead.map((o) => o.split('/')[0]))] }, 'leases of a process of this machine that is gone were ended; its work is claimed again now');
  }
  return total;
}
