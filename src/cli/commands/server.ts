import type { Command } from 'commander';
import { bootstrap } from '../../app/bootstrap.js';
import { ALL_ROLES, createApp, type Role } from '../../app/create-app.js';
import { loadMasterKey } from '../../config/master-key.js';
import { redactConfig } from '../../config/load.js';
import { openDb } from '../../store/db.js';
import { migrate } from '../../store/migrate.js';
import { configFrom, output, withCore } from '../context.js';

function parseRoles(s: string): Role[] {
  const roles = s.split(',').map((r) => r.trim()).filter(Boolean) as Role[];
  for (const r of roles) if (!ALL_ROLES.includes(r)) throw new Error(`unknown role ${r} (api, smtp, worker)`);
  return roles;
}

async function serve(program: Command, roles: Role[], first: boolean): Promise<void> {
  const config = configFrom(program);
  const app = await createApp(config, roles);
  if (first) {
    const b = await bootstrap(app.core);
    const url = config.http.publicUrl;
    process.stdout.write(`\ntegami is running (roles: ${roles.join(', ')}, database: ${app.deps.store.dialect})\n`);
    process.stdout.write(`  console:  ${url}/  (landing page; the web console is not built yet)\n  API:      ${url}/v1  (OpenAPI: ${url}/v1/openapi.json)\n`);
    if (b.created) {
      process.stdout.write(`\nFirst start: an account, a console user and an API key were created. They are shown only now:\n`);
      process.stdout.write(`  login:    ${b.login!.email}\n  password: ${b.login!.password}\n  API key:  ${b.apiKey}\n\n`);
    } else {
      process.stdout.write(`  (existing account ${b.accountId}; secrets were shown on first start only)\n\n`);
    }
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    app.deps.log.info('stopping: finishing in-flight work');
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
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
  program.command('serve').description('run the given roles in this process')
    .option('--roles <list>', 'api,smtp,worker', ALL_ROLES.join(','))
    .action(async (o: { roles: string }) => serve(program, parseRoles(o.roles), false));
  program.command('start').description('first-run friendly serve: all roles, bootstrap on first start, print URL and key')
    .action(async () => serve(program, ALL_ROLES, true));
  program.command('worker').description('run a sending worker (same as serve --roles worker)')
    .action(async () => serve(program, ['worker'], false));
  const cfg = program.command('config').description('configuration');
  cfg.command('show').description('print the effective configuration with secrets redacted')
    .action(() => output(program, redactConfig(configFrom(program))));
}
