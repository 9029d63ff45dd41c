import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { newId } from '../domain/ids.js';

/**
 * This process's machine and PID namespace, as a short key (Linux): the kernel's boot id (one
 * per boot of the machine) and the PID namespace's inode (one per container). Two processes
 * with the same key see the same process ids; null where /proc does not tell (then no lease is
 * ever given up early).
 */
function readLocalKey(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    return createHash('sha256').update(`${boot}\n${ns}`).digest('hex').slice(0, 12);
  } catch {
    return null;
  }
}

let localKey: string | null | undefined;
/** {@link readLocalKey}, read once. */
export function localProcessKey(): string | null {
  if (localKey === undefined) localKey = readLocalKey();
  return localKey;
}

/** The owner names this process made (its sending role, its webhook dispatcher). */
const mine = new Set<string>();

/**
 * A lease owner name for a process's sending role or webhook dispatcher:
 * `host:pid:random[:key]` (the pid stays the second field: bench/scale counts sends per process by it).
 */
export function ownerName(): string {
  const key = localProcessKey();
  const name = `${hostname()}:${process.pid}:${newId()}${key ? `:${key}` : ''}`;
  mine.add(name);
  return name;
}

/**
 * Whether a lease owner (a name from {@link ownerName}, or a claim token `name/n`) is a process
 * of this machine and PID namespace that no longer exists. Only then may its leases be given up
 * before they expire: a dead process sends nothing more. A pid in use again by another process
 * counts as alive (its leases simply expire), and so does anything this process cannot tell.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const name = owner.split('/')[0];
  if (mine.has(name)) return false;
  const [, pidText, , key] = name.split(':');
  const pid = Number(pidText);
  if (!key || key !== localProcessKey() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true; // an earlier process had this pid and is gone: this one is running now
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
