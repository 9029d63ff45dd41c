import type { Command } from 'commander';
import { createDispatcher } from '../../webhooks/dispatcher.js';
import { output, resolveAccount, withCore } from '../context.js';

type Opts = { account?: string };
const when = (ms: number | null | undefined) => (ms ? new Date(Number(ms)).toISOString() : '');
const types = (v?: string) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

/** `tegami webhooks …`: endpoints, secrets, the delivery log, redelivery and test pings (issue 10). */
export function register(program: Command): void {
  const w = program.command('webhooks').description('signed event webhooks (Standard Webhooks)');
  const acct = (c: Command) => c.option('--account <id>', 'account id');
  const run = <T>(o: Opts, fn: (core: Parameters<Parameters<typeof withCore>[1]>[0], account: string) => Promise<T>) =>
    withCore(program, async (core) => fn(core, await resolveAccount(core, o.account)));
  const row = (e: { id: string; url: string; status: string; event_types: string[]; failing_since: number | null }) =>
    ({ id: e.id, url: e.url, status: e.status, events: e.event_types.join(','), failing_since: when(e.failing_since) });

  acct(w.command('create <url>').description('add an endpoint; prints its secret once')
    .option('--events <list>', 'comma-separated: sent,delivered,deferred,bounced,complained,unsubscribed,resubscribed,skipped,alert or *', '*')
    .option('--description <text>', 'description'))
    .action(async (url: string, o: Opts & { events: string; description?: string }) => {
      const r = await run(o, (core, a) => core.webhooks.create(a, { url, eventTypes: types(o.events), description: o.description }));
      output(program, r, [{ ...row(r), secret: r.secret }]);
    });
  acct(w.command('list').description('the account\'s endpoints')).action(async (o: Opts) => {
    const r = await run(o, (core, a) => core.webhooks.list(a));
    output(program, r, r.map(row));
  });
  acct(w.command('show <id>').description('one endpoint')).action(async (id: string, o: Opts) => {
    const r = await run(o, (core, a) => core.webhooks.get(a, id));
    output(program, r, [{ ...row(r), disabled_reason: r.disabled_reason ?? '' }]);
  });
  acct(w.command('update <id>').description('change URL, events or description; --enable / --disable')
    .option('--url <url>', 'new URL').option('--events <list>', 'event types').option('--description <text>', 'description')
    .option('--enable', 're-enable (clears the failure streak)').option('--disable', 'pause deliveries'))
    .action(async (id: string, o: Opts & { url?: string; events?: string; description?: string; enable?: boolean; disable?: boolean }) => {
      if (o.enable && o.disable) throw new Error('--enable or --disable, not both');
      const r = await run(o, (core, a) => core.webhooks.update(a, id, {
        url: o.url, eventTypes: types(o.events), description: o.description, status: o.enable ? 'active' : o.disable ? 'disabled' : undefined,
      }));
      output(program, r, [row(r)]);
    });
  acct(w.command('delete <id>').description('remove an endpoint with its delivery log')).action(async (id: string, o: Opts) => {
    await run(o, (core, a) => core.webhooks.remove(a, id));
    output(program, { deleted: id });
  });
  acct(w.command('rotate-secret <id>').description('new secret; the old one also signs during the grace period')).action(async (id: string, o: Opts) => {
    const r = await run(o, (core, a) => core.webhooks.rotateSecret(a, id));
    output(program, r, [{ id: r.id, secret: r.secret, previous_valid_until: when(r.previous_secret_expires_at) }]);
  });
  acct(w.command('deliveries <id>').description('the delivery log, newest first').option('--status <s>', 'pending|delivering|succeeded|failed')
    .option('--limit <n>', 'rows', '50'))
    .action(async (id: string, o: Opts & { status?: string; limit: string }) => {
      const r = await run(o, (core, a) => core.webhooks.deliveries(a, id, { status: o.status, limit: Number(o.limit) }));
      output(program, r, r.items.map((d) => ({
        id: d.id, webhook_id: d.webhook_id, event: d.event_type, status: d.status, attempts: d.attempts,
        last: d.last_status_code ?? d.last_error ?? '', next: when(d.next_attempt_at), created: when(d.created_at),
      })));
    });
  acct(w.command('redeliver <id> <deliveryId>').description('send a delivery again (same webhook-id)')).action(async (id: string, deliveryId: string, o: Opts) => {
    const r = await run(o, (core, a) => core.webhooks.redeliver(a, id, Number(deliveryId)));
    output(program, r, [{ id: r.id, webhook_id: r.webhook_id, status: r.status }]);
  });
  acct(w.command('test <id>').description('send a signed test event now')).action(async (id: string, o: Opts) => {
    const r = await run(o, (core, a) => core.webhooks.test(a, id));
    output(program, r, [{ delivery: r.delivery.id, status: r.delivery.status, http: r.status_code ?? '', error: r.error ?? '' }]);
  });
  w.command('dispatch').description('run the dispatcher until nothing is due (normally the worker does this)').action(async () => {
    await withCore(program, async (_core, deps) => createDispatcher(deps).drain());
    output(program, { dispatched: true });
  });
}
