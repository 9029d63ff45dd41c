import { Command } from 'commander';
import { die } from './context.js';
import * as accounts from './commands/accounts.js';
import * as server from './commands/server.js';
import * as domain from './commands/domain.js';
import * as lists from './commands/lists.js';
import * as contacts from './commands/contacts.js';
import * as suppressions from './commands/suppressions.js';
import * as bounces from './commands/bounces.js';
import * as dmarc from './commands/dmarc.js';
import * as relay from './commands/relay.js';
import * as webhooks from './commands/webhooks.js';
import * as lint from './commands/lint.js';
import * as users from './commands/users.js';

/** Every command module; add one line per command group. */
const COMMANDS = [server, accounts, domain, lists, contacts, suppressions, bounces, dmarc, relay, webhooks, lint, users];

const program = new Command('tegami')
  .description('tegami: compliant mail sending')
  .option('-c, --config <file>', 'configuration file (default tegami.toml)')
  .option('--database <url>', 'database URL (sqlite:PATH or postgres://…)')
  .option('--json', 'print JSON')
  .showHelpAfterError();
for (const c of COMMANDS) c.register(program);

program.parseAsync(process.argv).catch(die);
