import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './tegami-process.js';

/**
 * A throw-away PostgreSQL server in a temp directory on a free port, for tests that stop and
 * restart the database (issue 11). Never the machine's shared server: other suites use that.
 * Needs Debian's server binaries (/usr/lib/postgresql/N/bin); as root it runs them as the
 * `postgres` user (initdb refuses root).
 */
export interface PrivatePg {
  url: string;
  port: number;
  stop(): void;
  start(): void;
  /** Stops the server for good and removes its directory. */
  destroy(): void;
}

/** The bin directory of the newest installed PostgreSQL server, or null. */
export function privatePgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

/** Why a private server cannot run here, or null when it can. */
export function privatePgUnavailable(): string | null {
  if (!privatePgBin()) return 'no PostgreSQL server binaries under /usr/lib/postgresql';
  if (userInfo().uid === 0) {
    try { execFileSync('id', ['postgres'], { stdio: 'ignore' }); } catch { return 'running as root and there is no postgres user'; }
  }
  return null;
}

/** initdb + start a private server (trust auth on 127.0.0.1, fsync off: it is thrown away). */
export async function startPrivatePg(): Promise<PrivatePg> {
  const bin = privatePgBin();
  if (!bin) throw new Error('no PostgreSQL server binaries');
  const dir = mkdtempSync(join(tmpdir(), 'tegami-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, start, stop,
    destroy() {
      try { run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
