import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { systemClock } from '../src/domain/clock.js';
import { createSendingRole } from '../src/send/sending-role.js';
import { isClaimOf } from '../src/send/worker.js';
import { captureTransport } from '../src/transport/capture.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { waitFor } from './helpers/tegami-process.js';

const LEASE_S = 5;
const N = 10;
const REPLY_DELAY_MS = 700;

/**
 * A batch that takes longer than the lease (a slow or tarpitting receiver; the transport allows
 * 60 s per step, the lease is 120 s) keeps its lease while it transmits (issue 11: exactly one
 * message per recipient). Before, the rows still waiting in the batch's pool became claimable at
 * the lease's end, and another lane or worker sent them a second time.
 *
 * Real time (the lease is renewed by a timer), a 5 s lease and a receiver that answers each
 * message after 0.7 s: the batch of 10 at concurrency 1 takes ~7 s. At 5.5 s a second lane claims.
 */
describe.each(DIALECTS)('a batch that outlasts its lease on %s', (dialect) => {
  let t: TestApp;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({ hideSTARTTLS: true, dataReplyDelayMs: REPLY_DELAY_MS });
    t = await createTestApp(dialect, {
      roles: ['api', 'worker'],
      create: { clock: systemClock },
      configure: (c) => {
        Object.assign(c.worker, { leaseSeconds: LEASE_S, concurrency: 1, batchSize: 50 });
        c.transport.kind = 'smtp';
        Object.assign(c.transport.smtp, { host: '127.0.0.1', port: sink.port, requireTls: false, maxConnections: 1 });
      },
    });
    await t.core.domains.addDomain(t.accountId, 'example.com');
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('is renewed while the batch transmits, so a second lane claims none of it', async () => {
    const rcpts = Array.from({ length: N }, (_, i) => `slow${i}@example.net`);
    for (const to of rcpts) {
      const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: [to], subject: 'x', text: 'y', category: 'transactional' });
      expect(r.status).toBe(202);
    }
    const worker = t.sending!.worker;
    const first = worker.tick();
    await new Promise((r) => setTimeout(r, (LEASE_S + 0.5) * 1000));
    // The batch is still transmitting: some recipients have not been reached yet.
    expect(sink.messages.length).toBeLessThan(N);
    // A second lane (or another worker process) claims what is due.
    const second = await worker.tick();
    expect(await first).toBe(N);
    expect(second).toBe(0);
    const got = sink.messages.map((m) => m.rcptTo[0]);
    expect(got.sort()).toEqual([...rcpts].sort());
    const rows = await t.db.db.selectFrom('messages').select(['status', 'attempts', 'lease_owner']).where('account_id', '=', t.accountId).execute();
    expect(rows).toHaveLength(N);
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1 && r.lease_owner === null)).toBe(true);
  }, 30_000);

  it('gives back at a graceful stop the rows of a claim whose tick failed before transmitting', async () => {
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['failed-tick@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    const id = r.json.messages[0].id;
    const row = () => t.db.db.selectFrom('messages').select(['status', 'lease_owner']).where('id', '=', id).executeTakeFirstOrThrow();
    // The suppression re-check cannot read its table: the tick fails after its claim.
    await sql`alter table suppressions rename to suppressions_away`.execute(t.db.db);
    try {
      await expect(t.sending!.worker.tick()).rejects.toThrow();
    } finally {
      await sql`alter table suppressions_away rename to suppressions`.execute(t.db.db);
    }
    const leased = await row();
    expect(leased.status).toBe('sending');
    expect(isClaimOf(t.sending!.owner, leased.lease_owner)).toBe(true);
    // A release that fails (the database away) keeps the claim for the next try (sending-role retries it).
    await sql`alter table messages rename to messages_away`.execute(t.db.db);
    try {
      await expect(t.sending!.worker.release()).rejects.toThrow();
    } finally {
      await sql`alter table messages_away rename to messages`.execute(t.db.db);
    }
    expect(await t.sending!.worker.release()).toBe(1);
    expect(await row()).toEqual({ status: 'queued', lease_owner: null });
    expect(await t.sending!.worker.tick()).toBe(1);
    expect(sink.messages.filter((m) => m.rcptTo[0] === 'failed-tick@example.net')).toHaveLength(1);
  });
  it('a graceful stop finishes the transmissions on the wire and gives the rest of the batch back at once', async () => {
    // Last in this file: the worker stays stopping.
    const rcpts = Array.from({ length: N }, (_, i) => `stop${i}@example.net`);
    for (const to of rcpts) await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: [to], subject: 'x', text: 'y', category: 'transactional' });
    const worker = t.sending!.worker;
    const before = sink.messages.length;
    const tick = worker.tick();
    expect(await waitFor(async () => sink.messages.length > before, 10_000, 10)).toBe(true);
    worker.beginStop();
    expect(await tick).toBe(N);
    // One transmission was on the wire at the stop (concurrency 1): it finished, no other started.
    const sent = sink.messages.slice(before).map((m) => m.rcptTo[0]);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.length).toBeLessThanOrEqual(3);
    const rows = await t.db.db.selectFrom('messages').select(['rcpt', 'status', 'attempts', 'lease_owner']).where('rcpt', 'in', rcpts).execute();
    for (const r of rows) {
      if (sent.includes(r.rcpt)) expect(r).toMatchObject({ status: 'sent', attempts: 1, lease_owner: null });
      else expect(r).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });
    }
    // Another worker (this process's capture transport) sends the rest: nobody twice, nobody lost.
    const role = createSendingRole(t.deps, t.core.collab, captureTransport(t.db, systemClock), { start: false });
    await role.drain();
    const captured = (await t.db.db.selectFrom('captured').select('rcpt_to').execute()).map((c) => c.rcpt_to).filter((r) => rcpts.includes(r));
    expect([...sent, ...captured].sort()).toEqual([...rcpts].sort());
  });
});
