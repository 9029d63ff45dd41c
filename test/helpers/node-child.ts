import { spawnSync } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Runs `node ARGS` in a fresh process (cwd: the repository) and returns the JSON of the last line
 * it printed; a child that exits non-zero fails the test with its stderr. For what only a fresh
 * process shows: which modules load, V8's heap from the first instruction, the machine's locale.
 */
export function nodeJson<T = unknown>(args: string[], env: Record<string, string> = {}): T {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`the child exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}
