import type { Command } from 'commander';
import { loadMasterKey } from '../config/master-key.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../app/logger.js';
import type { Deps } from '../app/deps.js';
import { systemClock } from '../domain/clock.js';
import { isTegamiError } from '../domain/errors.js';
import { createCore, type Core } from '../core/index.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';

/** Global flags every command understands. */
export interface GlobalOpts {
  config?: string;
  database?: string;
  json?: boolean;
}

/** Loads the config from the global flags (defaults < toml < env < flags). */
export function configFrom(program: Command): Config {
  const g = program.opts<GlobalOpts>();
  return loadConfig({ file: g.config, flags: { 'database.url': g.database } });
}

/** Opens the store and core for a one-shot command, runs `fn`, and closes everything. */
export async function withCore<T>(program: Command, fn: (core: Core, deps: Deps) => Promise<T>): Promise<T> {
  const config = configFrom(program);
  const store = openDb({ url: config.database.url, poolSize: 2 });
  try {
    await migrate(store);
    const log = createLogger({ log: { level: 'warn' } });
    const deps: Deps = { store, clock: systemClock, log, config, masterKey: loadMasterKey(config, { create: true }) };
    return await fn(createCore(deps), deps);
  } finally {
    await store.close();
  }
}

/** The account a command acts on: `--account ID`, else the only account there is. */
export async function resolveAccount(core: Core, given?: string): Promise<string> {
  if (given) {
    if (!(await core.accounts.getAccount(given))) throw new Error(`account ${given} not found`);
    return given;
  }
  const all = await core.accounts.listAccounts();
  if (all.length === 1) return all[0].id;
  throw new Error(all.length ? 'several accounts exist: pass --account ID' : 'no account yet: run `tegami init`');
}

/** Prints a value as JSON (with --json) or as aligned text rows. */
export function output(program: Command, value: unknown, table?: Array<Record<string, unknown>>): void {
  if (program.opts<GlobalOpts>().json || !table) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  if (!table.length) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = Object.keys(table[0]);
  const width = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i])).join('  ').trimEnd();
  process.stdout.write([line(cols), ...table.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n') + '\n');
}

/** Prints an error with its code and exits non-zero. */
export function die(err: unknown): never {
  if (isTegamiError(err)) process.stderr.write(`error ${err.code}: ${err.message}\n`);
  else process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
  process.exit(isTegamiError(err) && err.kind === 'invalid' ? 2 : 1);
}
