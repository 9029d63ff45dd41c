import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isDeadLocalOwner, localProcessKey, ownerName } from '../src/send/process-identity.js';

const onLinux = process.platform === 'linux';
if (!onLinux) console.warn('[tegami tests] lease owners of this machine SKIPPED: needs Linux /proc (elsewhere no lease is given up early)');

/** Which lease owners a starting worker may take over at once (issue 11): only dead processes of its own machine and PID namespace. */
describe.skipIf(!onLinux)('lease owners of this machine', () => {
  const key = localProcessKey()!;
  const name = (pid: number, k: string | null = key) => `${hostname()}:${pid}:OTHERID${k ? `:${k}` : ''}`;

  it('names this process with its pid and a key of the machine and PID namespace', () => {
    expect(key).toMatch(/^[0-9a-f]{12}$/);
    const own = ownerName();
    expect(own).toMatch(new RegExp(`^${hostname()}:${process.pid}:[^:]+:${key}$`));
    expect(isDeadLocalOwner(own)).toBe(false);
    expect(isDeadLocalOwner(`${own}/7`)).toBe(false); // its own claim tokens
  });

  it('a process that exited is dead; a running one, another machine, an old-style name, or a pid in use are not', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid!;
    await once(child, 'exit');
    expect(isDeadLocalOwner(name(pid))).toBe(true);
    expect(isDeadLocalOwner(`${name(pid)}/3`)).toBe(true);
    expect(isDeadLocalOwner(name(process.ppid))).toBe(false); // running
    expect(isDeadLocalOwner(name(pid, 'aaaaaaaaaaaa'))).toBe(false); // another machine or container
    expect(isDeadLocalOwner(name(pid, null))).toBe(false); // no key: cannot tell
    expect(isDeadLocalOwner('garbage')).toBe(false);
    // An earlier process that had this process's pid (not one of this process's names) is gone.
    expect(isDeadLocalOwner(name(process.pid))).toBe(true);
  });
});
