import type { Command } from 'commander';
import { bootstrap } from '../../app/bootstrap.js';
import { ALL_ROLES, createApp, type Role } from '../../app/create-app.js';
import { loadMasterKey } from '../../config/master-key.js';
import { redactConfig } from '../../config/load.js';
import { openDb } from '../../store/db.js';
import { migrate } from '../../store/migrate.js';
import { configFrom, output, withCore } from '../context.js';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { createLogger } from '../../app/logger.js';
import type { Config } from '../../config/schema.js';
import { backoffMs } from '../../send/runner.js';
import { fail, isTegamiError } from '../../domain/errors.js';

function parseRoles(s: string): Role[] {
  const roles = s.split(',').map((r) => r.trim()).filter(Boolean) as Role[];
  for (const r of roles) if (!ALL_ROLES.includes(r)) throw new Error(`unknown role ${r} (api, smtp, worker)`);
  return roles;
}

/** PostgreSQL errors that waiting will not cure (bad password, missing database, bad URL). */
const FATAL_PG = new Set(['28P01', '28000', '3D000', '42501']);

/**
 * Waits until the database answers (a worker started before PostgreSQL, or during a restart),
 * retrying with capped back-off; errors that waiting cannot fix are thrown at once.
 */
async function waitForDatabase(config: Config, log: Logger, stopping: () => boolean): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(config.database.url)) return;
  for (let failures = 1; !stopping(); failures++) {
    const probe = openDb({ url: config.database.url, poolSize: 1 });
    try {
      await sql`select 1`.execute(probe.db);
      if (failures > 1) log.warn({ failures }, 'database reachable; starting');
      return;
    } catch (err) {
      if (FATAL_PG.has((err as { code?: string }).code ?? '')) throw err;
      const delay = backoffMs(failures, 250, 10_000);
      log.error({ err, failures, retry_in_ms: delay }, 'database unreachable at start; retrying');
      await new Promise((r) => setTimeout(r, delay));
    } finally {
      await probe.close().catch(() => {});
    }
  }
}

async function serve(program: Command, roles: Role[], first: boolean): Promise<void> {
  const config = configFrom(program);
  const log = createLogger(config);
  // A SIGTERM before the app is up (still waiting for the database) simply exits.
  let starting = true;
  let early = false;
  const earlyStop = () => { early = true; if (starting) process.exit(0); };
  process.once('SIGTERM', earlyStop);
  process.once('SIGINT', earlyStop);
  // Several processes, maybe on several machines, share a PostgreSQL database: a process that
  // quietly made itself a new master key could not read the DKIM keys and would sign
  // unsubscribe links nobody else accepts. Only `start` (first run) creates one there.
  const shared = /^postgres(ql)?:\/\//.test(config.database.url);
  let masterKey: Buffer;
  try {
    masterKey = loadMasterKey(config, { create: first || !shared });
  } catch (err) {
    if (!isTegamiError(err) || err.code !== 'E_MASTER_KEY') throw err;
    fail('E_MASTER_KEY', `${err.message}; every process on a shared PostgreSQL needs the same key: set TEGAMI_MASTER_KEY or masterKeyFile (docs/deploy-postgresql.md)`);
  }
  await waitForDatabase(config, log, () => early);
  const app = await createApp(config, roles, { log, masterKey });
  starting = false;
  process.removeListener('SIGTERM', earlyStop);
  process.removeListener('SIGINT', earlyStop);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: finishing in-flight work');
    // A batch in flight cannot legitimately outlast its lease; past that, give up and say so.
    const limitMs = config.worker.leaseSeconds * 1000 + 10_000;
    const timer = setTimeout(() => {
      log.error({ limit_ms: limitMs }, 'graceful stop took too long; exiting (leases expire and are re-claimed)');
      process.exit(1);
    }, limitMs);
    timer.unref();
    await app.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (first) {
    const b = await bootstrap(app.core);
    const url = config.http.publicUrl;
    process.stdout.write(`\ntegami is running (roles: ${roles.join(', ')}, database: ${app.deps.store.dialect})\n`);
    process.stdout.write(`  console:  ${url}/console/\n  API:      ${url}/v1  (OpenAPI: ${url}/v1/openapi.json)\n`);
    if (b.created) {
      process.stdout.write(`\nFirst start: an account, a console user and an API key were created. They are shown only now:\n`);
      process.stdout.write(`  login:    ${b.login!.email}\n  password: ${b.login!.password}\n  API key:  ${b.apiKey}\n\n`);
    } else {
      process.stdout.write(`  (existing account ${b.accountId}; secrets were shown on first start only)\n\n`);
    }
  }
  if (!first) log.info({ roles, database: app.deps.store.dialect, url: app.url, owner: app.sending?.owner }, 'tegami started');
}

/** `init`, `migrate`, `serve`, `start`, `worker`, `config show`. */
export function register(program: Command): void {
  program.command('init').description('create the master key and database, and the first account, user and API key')
    .action(async () => {
      const config = configFrom(program);
      loadMasterKey(config, { create: true });
      const r = await withCore(program, (core) => bootstrap(core));
      output(program, r.created ? r : { ...r, note: 'already initialised; no secret is shown again' });
    });
  program.command('migrate').description('apply pending database migrations').action(async () => {
    const config = configFrom(program);
    const store = openDb({ url: config.database.url });
    try {
      output(program, { applied: await migrate(store) });
    } finally {
      await store.close();
    }
  });
  program.command('serve').description('run the given roles in this process (any number of processes may share one PostgreSQL)')
    .option('--roles <list>', 'comma-separated: api (HTTP API, console, unsubscribe pages), smtp (inbound MX, submission relay), worker (planner + sender)', ALL_ROLES.join(','))
    .action(async (o: { roles: string }) => serve(program, parseRoles(o.roles), false));
  program.command('start').description('first-run friendly serve: all roles, bootstrap on first start, print URL and key')
    .action(async () => serve(program, ALL_ROLES, true));
  program.command('worker').description('run a sending worker (same as serve --roles worker); run as many as you like against one PostgreSQL')
    .action(async () => serve(program, ['worker'], false));
  const cfg = program.command('config').description('configuration');
  cfg.command('show').description('print the effective configuration with secrets redacted')
    .action(() => output(program, redactConfig(configFrom(program))));
}
