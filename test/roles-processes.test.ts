import { connect } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffMs, startLoop } from '../src/send/runner.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { isClaimOf } from '../src/send/worker.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { childDatabaseUrl, childEnv, freePort, sinkTransportEnv, startTegami, terminate, waitFor, type TegamiProcess } from './helpers/tegami-process.js';

const N = 2000;

/** Reads the first line an SMTP server sends. */
async function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setEncoding('utf8').once('data', (d: string) => { s.destroy(); resolve(d); });
    s.once('error', reject);
    setTimeout(() => { s.destroy(); reject(new Error('no greeting')); }, 5000).unref();
  });
}

/**
 * Issue 11 item 1: `tegami serve --roles api,smtp` and any number of `tegami worker` processes
 * against one database. The front process answers HTTP and SMTP but never sends; workers send;
 * SIGTERM finishes the batch in flight, releases leases and exits 0.
 */
describe.each(DIALECTS)('roles as separate processes on %s (issue 11)', (dialect) => {
  const workers = dialect === 'postgres' ? 2 : 1;
  let t: TestApp;
  let sink: SmtpSink;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => {
    sink = await startSmtpSink({ hideSTARTTLS: true });
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
    await sink?.close();
  });

  it(`api,smtp process + ${workers} worker process(es): the front never sends, workers do, SIGTERM is graceful`, async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'roles', Array.from({ length: N }, (_, i) => `ro${i}@example.org`));
    const inboundPort = await freePort();
    const env = childEnv(childDatabaseUrl(t.db), t.deps.masterKey, {
      ...sinkTransportEnv(sink.port), TEGAMI_SMTP_INBOUND_PORT: String(inboundPort), TEGAMI_WORKER_BATCH_SIZE: '50', TEGAMI_WORKER_POLL_MS: '50',
      TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    if (dialect === 'postgres') {
      // A process on a shared database never invents its own master key (it could not read the
      // DKIM keys and its unsubscribe links would be refused elsewhere).
      const { TEGAMI_MASTER_KEY: _k, ...noKey } = env;
      const r = await startTegami(['worker'], { ...noKey, TEGAMI_MASTER_KEY_FILE: '/nonexistent/tegami/master.key' }).then(() => 'started', (e: Error) => e.message);
      expect(r).toMatch(/exited before starting \(1\)/);
    }
    const front = await startTegami(['serve', '--roles', 'api,smtp'], env);
    procs.push(front);
    expect(front.url).toMatch(/^http:\/\//);
    expect(front.owner).toBeUndefined();
    expect(await greeting(inboundPort)).toMatch(/^220 /);

    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${front.url}${path}`, {
        method, headers: { authorization: `Bearer ${t.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, json: await r.json() as any };
    };
    const created = await call('POST', '/v1/campaigns', { name: 'roles', list_ids: [list.id], from: 'news@example.com', subject: 'Roles', text: 'Hello {{ email }}' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect((await call('POST', `/v1/campaigns/${id}/schedule`, {})).json.status).toBe('scheduled');
    await new Promise((r) => setTimeout(r, 1500));
    // No worker yet: the api,smtp process plans and sends nothing.
    expect((await call('GET', `/v1/campaigns/${id}/progress`)).json).toMatchObject({ planned: 0, sent: 0 });
    expect(sink.messages).toHaveLength(0);

    const ws = await Promise.all(Array.from({ length: workers }, () => startTegami(['worker'], env)));
    procs.push(...ws);
    for (const w of ws) {
      expect(w.url).toBeUndefined(); // a worker serves no HTTP
      expect(w.owner).toContain(`:${w.pid}:`);
    }
    // SIGTERM one worker mid-campaign: it finishes its batch, gives back its leases, exits 0.
    expect(await waitFor(async () => sink.messages.length >= N * 0.3, 60_000, 10)).toBe(true);
    expect(await terminate(ws[0])).toBe(0);
    const held = await t.db.db.selectFrom('messages').select('id').where('lease_owner', '=', ws[0].owner!).execute();
    expect(held).toEqual([]);
    // The other first workers stop too (gracefully), so the one started next has the rest of the
    // campaign to send whatever its start-up time: a still-running worker could otherwise finish
    // it first and leave the newcomer, whose counters are checked below, nothing.
    for (const w of ws.slice(1)) expect(await terminate(w)).toBe(0);
    // This worker serves /metrics and /healthz on a port of its own (worker.metricsPort).
    const metricsPort = await freePort();
    const rest = await startTegami(['worker'], { ...env, TEGAMI_WORKER_METRICS_PORT: String(metricsPort) });
    procs.push(rest);

    expect(await waitFor(async () => (await call('GET', `/v1/campaigns/${id}/progress`)).json.status === 'sent', 120_000, 200)).toBe(true);
    expect((await call('GET', `/v1/campaigns/${id}/progress`)).json).toMatchObject({ planned: N, sent: N });
    const rcpts = sink.messages.map((m) => m.rcptTo[0]);
    expect(rcpts).toHaveLength(N);
    expect(new Set(rcpts).size).toBe(N); // a graceful stop costs no duplicate
    const events = await t.db.db.selectFrom('events').select('data').where('type', '=', 'sent').where('campaign_id', '=', id).execute();
    const pids = new Set(events.map((e) => Number(JSON.parse(e.data!).worker.split(':')[1])));
    expect(pids.has(front.pid)).toBe(false);
    expect(pids.size).toBe(workers + 1);
    // Its counters agree with the database: every 'sent' event written by that process.
    const byRest = events.filter((e) => Number(JSON.parse(e.data!).worker.split(':')[1]) === rest.pid).length;
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(`tegami_messages_total{status="sent"} ${byRest}`);
    expect(metrics).toMatch(/tegami_worker_batches_total [1-9]/);
    expect(metrics).toContain('tegami_worker_loop_failures{loop="worker"} 0');
    expect(metrics).toContain('tegami_worker_loop_failures{loop="worker-2"} 0');
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).json()).toEqual({ status: 'ok', database: dialect });
    expect((await fetch(`http://127.0.0.1:${metricsPort}/v1/messages`)).status).toBe(404);
    // The front sends nothing, so it counts nothing.
    expect(await (await fetch(`${front.url}/metrics`)).text()).not.toMatch(/tegami_messages_total\{/);

    const codes = await Promise.all(procs.filter((p) => p.child.exitCode === null).map(terminate));
    expect(codes.every((c) => c === 0)).toBe(true);
    const leases = await t.db.db.selectFrom('messages').select('id').where('lease_owner', 'is not', null).execute();
    expect(leases).toEqual([]);
  }, 240_000);
});

describe.each(DIALECTS)('a worker stuck on a silent next hop on %s (issue 11)', (dialect) => {
  let t: TestApp;
  let silent: SMTPServer;
  let port = 0;
  let onTheWire = 0;
  const procs: TegamiProcess[] = [];
  beforeAll(async () => {
    // Accepts the envelope and the data, then never answers: a transmission that cannot finish.
    silent = new SMTPServer({ hideSTARTTLS: true, authOptional: true, disabledCommands: ['AUTH'], logger: false, onData(stream) { onTheWire++; stream.resume(); } });
    silent.on('error', () => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    port = (silent.server.address() as { port: number }).port;
    t = await createTestApp(dialect);
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await t?.close();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('SIGTERM gives up after leaseSeconds + 10 s with exit 1 and says so; the lease then expires for another worker', async () => {
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'stuck', ['a@example.org', 'b@example.org']);
    const c = await t.core.campaigns.create(t.accountId, { name: 'stuck', list_ids: [list.id], from: 'news@example.com', subject: 'S', text: 'T' });
    const env = childEnv(childDatabaseUrl(t.db), t.deps.masterKey, {
      ...sinkTransportEnv(port), TEGAMI_WORKER_LEASE_SECONDS: '5', TEGAMI_TRANSPORT_TIMEOUT_MS: '120000', TEGAMI_WORKER_POLL_MS: '50', TEGAMI_WORKER_RENDER_THREADS: '0',
    });
    const w = await startTegami(['worker'], env);
    procs.push(w);
    await t.core.campaigns.schedule(t.accountId, c.id);
    // Both transmissions are on the wire (a claimed row whose transmission has not started yet
    // would be given back at once by the graceful stop, which then has nothing to wait for).
    expect(await waitFor(async () => onTheWire === 2, 30_000)).toBe(true);
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const { code } = await w.exited;
    const exitedAt = Date.now();
    const took = exitedAt - t0;
    expect(code).toBe(1);
    expect(took).toBeGreaterThanOrEqual(14_000);
    expect(took).toBeLessThan(40_000);
    expect(w.warnings.some((x) => x.msg === 'graceful stop took too long; exiting (leases expire and are re-claimed)')).toBe(true);
    // Its messages are still leased by the dead owner's claim, which renewed the lease while the
    // process waited (the claim's own lease ended before t0 + 5 s), and become claimable at most
    // one lease after the exit.
    const rows = await t.db.db.selectFrom('messages').select(['status', 'lease_owner', 'lease_until']).where('campaign_id', '=', c.id).execute();
    expect(rows.every((r) => r.status === 'sending' && isClaimOf(w.owner!, r.lease_owner))).toBe(true);
    const until = rows.map((r) => Number(r.lease_until));
    expect(Math.min(...until)).toBeGreaterThan(t0 + 10_000);
    expect(Math.max(...until)).toBeLessThanOrEqual(exitedAt + 5_000);
  }, 120_000);
});

describe('retry back-off of the worker loops (issue 11)', () => {
  it('doubles from the poll interval, is capped, and jitters by ±20 %', () => {
    expect(backoffMs(1, 250, 10_000, () => 0.5)).toBe(500);
    expect(backoffMs(3, 250, 10_000, () => 0.5)).toBe(2000);
    expect(backoffMs(50, 250, 10_000, () => 0.5)).toBe(10_000);
    expect(backoffMs(50, 250, 10_000, () => 0)).toBe(8000);
    expect(backoffMs(50, 250, 10_000, () => 1)).toBe(12_000);
  });
});

describe('a busy loop and the event loop (issue 11)', () => {
  it('lets timers and I/O run between busy ticks that resolve without I/O', async () => {
    // A tick as on SQLite with nothing to transmit: all its promises are already resolved.
    let ticks = 0;
    let at = -1;
    const immediate = new Promise<void>((r) => setImmediate(() => { at = ticks; r(); }));
    const loop = startLoop('busy', async () => { ticks++; return ticks < 1000; }, { pollMs: 10_000, log: { warn() {}, error() {} } as never });
    await immediate;
    await loop.stop();
    // Without the turn between ticks the callback waited for all 1,000.
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(5);
  });
});
