import type { Command } from 'commander';
import { output, resolveAccount, withCore } from '../context.js';

/** `domain add|list|show|dns|rotate-key|retire-key`. */
export function register(program: Command): void {
  const d = program.command('domain').description('sending domains and their DKIM keys');
  const acct = (c: Command) => c.option('--account <id>', 'account id');
  acct(d.command('add <name>').description('add a domain and generate its RSA-2048 and Ed25519 keys')
    .option('--return-path <domain>', 'bounce (return-path) domain, default bounces.<name>')
    .option('--unsubscribe-host <host>', 'host for one-click unsubscribe links on your own domain')
    .option('--test-mode', 'usable with the capture transport only, no DNS needed'))
    .action(async (name: string, o: { account?: string; returnPath?: string; unsubscribeHost?: string; testMode?: boolean }) => {
      const r = await withCore(program, async (core) => core.domains.addDomain(await resolveAccount(core, o.account), name, { returnPathDomain: o.returnPath, unsubscribeHost: o.unsubscribeHost, testMode: o.testMode }));
      output(program, r, r.keys.map((k) => ({ domain: r.name, selector: k.selector, algorithm: k.algorithm, status: k.status })));
    });
  acct(d.command('list').description('list domains')).action(async (o: { account?: string }) => {
    const rows = await withCore(program, async (core) => core.domains.list(await resolveAccount(core, o.account)));
    output(program, rows, rows.map((r) => ({ id: r.id, name: r.name, return_path: r.return_path_domain, status: r.status, test_mode: r.test_mode })));
  });
  acct(d.command('show <domain>').description('a domain and its keys')).action(async (name: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.domains.show(await resolveAccount(core, o.account), name));
    output(program, r, r.keys.map((k) => ({ id: k.id, selector: k.selector, algorithm: k.algorithm, status: k.status })));
  });
  acct(d.command('dns <domain>').description('the exact DNS records to publish (zone text; --json for records)')).action(async (name: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.domains.dns(await resolveAccount(core, o.account), name));
    if (program.opts().json) output(program, r);
    else process.stdout.write(r.zone);
  });
  acct(d.command('rotate-key <domain>').description('new active key pair; the old pair keeps verifying until retired')).action(async (name: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.domains.rotateKeys(await resolveAccount(core, o.account), name));
    output(program, r, r.keys.map((k) => ({ id: k.id, selector: k.selector, algorithm: k.algorithm, status: k.status })));
  });
  acct(d.command('retire-key <domain> <key>').description('stop publishing a retiring key (id or selector)')).action(async (name: string, key: string, o: { account?: string }) => {
    const r = await withCore(program, async (core) => core.domains.retireKey(await resolveAccount(core, o.account), name, key));
    output(program, r, r.keys.map((k) => ({ id: k.id, selector: k.selector, algorithm: k.algorithm, status: k.status })));
  });
}
