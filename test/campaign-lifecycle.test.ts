import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanner } from '../src/send/planner.js';
import { campaignsRepo } from '../src/store/campaigns-repo.js';
import { CAMPAIGN_CHUNK, messagesRepo, PLAN_CHUNK } from '../src/store/messages-repo.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

/**
 * Event-loop turns (setImmediate callbacks) that ran while `fn` was pending: timers, I/O and
 * HTTP requests get their turn in between. On SQLite every query resolves without I/O, so a
 * loop of statements that never yields gives 0.
 */
async function turnsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let done = false;
  let turns = 0;
  const spin = () => { if (done) return; turns++; setImmediate(spin); };
  setImmediate(spin);
  try {
    return { result: await fn(), turns };
  } finally {
    done = true;
  }
}

describe.each(DIALECTS)('campaign lifecycle, leases and the send log on %s (issue 3)', (dialect) => {
  let t: TestApp;
  let listId: string;
  const captured = async () => (await t.db.db.selectFrom('captured').select('rcpt_to').execute()).map((r) => r.rcpt_to);
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'] });
    await t.core.domains.addDomain(t.accountId, 'example.com', { unsubscribeHost: 'unsub.example.com' });
    listId = (await seedList(t.db.db, t.accountId, 'Life', Array.from({ length: 12 }, (_, i) => `p${i}@example.org`))).id;
  });
  afterAll(async () => { await t?.close(); });

  it('pauses, resumes and cancels; paused mail is not sent; cancelled mail is skipped', async () => {
    const tpl = await t.api('POST', '/v1/templates', { name: 'T', subject: 'Hi {{ email }}', text: 'Body {{ unsubscribe_url }}' });
    expect(tpl.status).toBe(201);
    const c = await t.api('POST', '/v1/campaigns', { name: 'L', list_ids: [listId], from: 'news@example.com', template_id: tpl.json.id });
    expect(c.status).toBe(201);
    expect((await t.api('POST', `/v1/campaigns/${c.json.id}/resume`)).json.error.code).toBe('E_STATE');
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    await t.sending!.planner.tick();
    expect((await t.api('POST', `/v1/campaigns/${c.json.id}/pause`)).json.status).toBe('paused');
    await t.sending!.drain();
    expect(await captured()).toHaveLength(0);
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json).toMatchObject({ paused: 12, sent: 0 });
    expect((await t.api('POST', `/v1/campaigns/${c.json.id}/resume`)).json.status).toBe('running');
    await t.sending!.drain();
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json).toMatchObject({ status: 'sent', sent: 12 });
    const raw = Buffer.from((await t.db.db.selectFrom('captured').select('raw').limit(1).executeTakeFirstOrThrow()).raw).toString();
    expect(raw).toMatch(/List-Unsubscribe: <https:\/\/unsub\.example\.com\/u\//); // the domain's own unsubscribe host
    const c2 = await t.api('POST', '/v1/campaigns', { name: 'L2', list_ids: [listId], from: 'news@example.com', subject: 'S', text: 'T' });
    await t.api('POST', `/v1/campaigns/${c2.json.id}/schedule`, {});
    await t.sending!.planner.tick();
    expect((await t.api('POST', `/v1/campaigns/${c2.json.id}/cancel`)).json.status).toBe('cancelled');
    await t.sending!.drain();
    expect((await t.api('GET', `/v1/campaigns/${c2.json.id}/progress`)).json).toMatchObject({ status: 'cancelled', sent: 0, skipped_by_reason: { cancelled: 12 } });
    expect((await t.api('POST', `/v1/campaigns/${c2.json.id}/cancel`)).json.error.code).toBe('E_STATE');
  });

  it("checks the campaign's state at transmit time: mail a pause or cancel left queued or deferred (a crash half-way, a 4xx recorded after it) is never sent", async () => {
    const statuses = async (id: string) => (await t.db.db.selectFrom('messages').select(['status', 'reason']).where('campaign_id', '=', id).execute());
    const before = (await captured()).length;
    const c = await t.api('POST', '/v1/campaigns', { name: 'Crash', list_ids: [listId], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    await t.sending!.planner.tick();
    // The pause's first step only (the process died before its messages moved), and two messages
    // deferred by a 4xx recorded after the pause.
    const repo = campaignsRepo(t.db);
    expect(await repo.transition(t.accountId, c.json.id, ['running'], { status: 'paused' })).toBe(true);
    const two = (await t.db.db.selectFrom('messages').select('id').where('campaign_id', '=', c.json.id).limit(2).execute()).map((m) => m.id);
    await t.db.db.updateTable('messages').set({ status: 'deferred', next_attempt_at: t.clock.now(), last_reply: '421 4.7.0 try again later', attempts: 1 }).where('id', 'in', two).execute();
    await t.sending!.drain();
    expect((await captured()).length).toBe(before);
    expect((await statuses(c.json.id)).map((m) => m.status)).toEqual(Array(12).fill('paused'));
    // Not an attempt: the deferred ones keep their attempt count and last reply.
    const kept = await t.db.db.selectFrom('messages').select(['attempts', 'last_reply']).where('id', 'in', two).execute();
    expect(kept).toEqual([{ attempts: 1, last_reply: '421 4.7.0 try again later' }, { attempts: 1, last_reply: '421 4.7.0 try again later' }]);
    // A resume that stopped half-way (campaign running, its messages still paused): the planner requeues them.
    expect(await repo.transition(t.accountId, c.json.id, ['paused'], { status: 'running' })).toBe(true);
    await t.sending!.drain();
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json).toMatchObject({ status: 'sent', sent: 12 });
    expect((await captured()).length).toBe(before + 12);

    // The same for a cancel: skipped with reason and event, none sent.
    const c2 = await t.api('POST', '/v1/campaigns', { name: 'Crash2', list_ids: [listId], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c2.json.id}/schedule`, {});
    await t.sending!.planner.tick();
    expect(await repo.transition(t.accountId, c2.json.id, ['running'], { status: 'cancelled' })).toBe(true);
    await t.sending!.drain();
    expect((await captured()).length).toBe(before + 12);
    expect((await statuses(c2.json.id)).every((m) => m.status === 'skipped' && m.reason === 'cancelled')).toBe(true);
    const events = await t.db.db.selectFrom('events').select('data').where('campaign_id', '=', c2.json.id).where('type', '=', 'skipped').execute();
    expect(events.map((e) => JSON.parse(e.data!))).toEqual(Array(12).fill({ reason: 'cancelled', at: 'send' }));
  });

  it('a pause that a resume overtakes, or a resume that a pause overtakes, leaves the messages in the state of the campaign', async () => {
    const c = await t.api('POST', '/v1/campaigns', { name: 'Race', list_ids: [listId], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    await t.sending!.planner.tick();
    const msgs = messagesRepo(t.db);
    // The campaign is running again by the time the pause's message update runs: it moves nothing.
    expect(await msgs.setCampaignPending(c.json.id, ['queued', 'deferred'], 'paused', null, t.clock.now(), ['paused'])).toBe(0);
    await t.api('POST', `/v1/campaigns/${c.json.id}/pause`, {});
    expect(await msgs.setCampaignPending(c.json.id, ['paused'], 'queued', null, t.clock.now(), ['running'])).toBe(0);
    const left = await t.db.db.selectFrom('messages').select('status').where('campaign_id', '=', c.json.id).execute();
    expect(left.every((m) => m.status === 'paused')).toBe(true);
    await t.api('POST', `/v1/campaigns/${c.json.id}/cancel`, {});
  });

  it('cancels a large campaign in statements of CAMPAIGN_CHUNK messages with the event loop free in between', async () => {
    const n = 2 * CAMPAIGN_CHUNK + 10;
    const big = await seedList(t.db.db, t.accountId, 'CancelBig', Array.from({ length: n }, (_, i) => `cb${i}@example.org`));
    const c = await t.api('POST', '/v1/campaigns', { name: 'CancelBig', list_ids: [big.id], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    await createPlanner(t.deps, t.core.collab, 'cancel-planner').tick();
    const { result: r, turns } = await turnsDuring(() => t.core.campaigns.cancel(t.accountId, c.json.id));
    expect(r.status).toBe('cancelled');
    // On SQLite every statement resolves without I/O: one UPDATE over the campaign gave 0 turns.
    expect(turns).toBeGreaterThanOrEqual(2);
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json).toMatchObject({ status: 'cancelled', skipped_by_reason: { cancelled: n } });
  }, 60_000);

  it('re-claims the messages of a crashed worker after the lease expires', async () => {
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['lease@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    const repo = messagesRepo(t.db);
    const claimed = await repo.claimDue('crashed-worker', t.clock.now(), 120_000, 100);
    expect(claimed.map((m) => m.id)).toContain(r.json.messages[0].id);
    await t.sending!.drain(); // the lease still holds: nothing to do
    expect(await captured()).not.toContain('lease@example.net');
    t.clock.advance(121_000);
    await t.sending!.drain();
    expect(await captured()).toContain('lease@example.net');
    const m = await t.api('GET', `/v1/messages/${r.json.messages[0].id}`);
    expect(m.json.status).toBe('sent');
  });

  it('a stopping planner hands a large campaign over after the page in progress, not after the lease', async () => {
    const big = await seedList(t.db.db, t.accountId, 'Big', Array.from({ length: 2500 }, (_, i) => `big${i}@example.org`));
    const c = await t.api('POST', '/v1/campaigns', { name: 'Big', list_ids: [big.id], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    let pages = 0;
    const stopping = createPlanner(t.deps, t.core.collab, 'stopping-planner', () => ++pages >= 1);
    expect(await stopping.tick()).toBe(true);
    const row = await t.db.db.selectFrom('campaigns').selectAll().where('id', '=', c.json.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'planning', lease_owner: null, lease_until: null, plan_cursor: expect.stringMatching(/^\d+$/) });
    expect(Number(row.planned)).toBe(1000);
    // Another planner continues from the cursor at once (no clock advance), each recipient once.
    await t.sending!.drain();
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json).toMatchObject({ status: 'sent', planned: 2500, sent: 2500 });
    const rcpts = (await t.db.db.selectFrom('messages').select('rcpt').where('campaign_id', '=', c.json.id).execute()).map((m) => m.rcpt);
    expect(new Set(rcpts).size).toBe(2500);
  });

  it('a large campaign is planned page by page with the event loop free in between (other work runs while it plans)', async () => {
    const big = await seedList(t.db.db, t.accountId, 'Yield', Array.from({ length: 3500 }, (_, i) => `y${i}@example.org`));
    const c = await t.api('POST', '/v1/campaigns', { name: 'Yield', list_ids: [big.id], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    // Timers and I/O callbacks (a lane's SMTP, an HTTP request) run between the 4 pages: without
    // the planner's yield this was 0 turns on SQLite.
    const { result: planned, turns } = await turnsDuring(() => createPlanner(t.deps, t.core.collab, 'yielding-planner').tick());
    expect(planned).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(Number((await t.db.db.selectFrom('campaigns').select('planned').where('id', '=', c.json.id).executeTakeFirstOrThrow()).planned)).toBe(3500);
  });

  it('plans a page in statements of PLAN_CHUNK rows: suppressed recipients on each side of a chunk boundary are skipped with their event, each recipient once', async () => {
    const n = 2 * PLAN_CHUNK + 10;
    const list = await seedList(t.db.db, t.accountId, 'Chunks', Array.from({ length: n }, (_, i) => `ch${i}@example.org`));
    const blocked = [0, PLAN_CHUNK - 1, PLAN_CHUNK, 2 * PLAN_CHUNK, n - 1].map((i) => `ch${i}@example.org`);
    await t.core.suppressions.add(t.accountId, blocked.map((address) => ({ address, scope: 'account' as const, reason: 'unsubscribe' as const })), { source: 'test' });
    const c = await t.api('POST', '/v1/campaigns', { name: 'Chunks', list_ids: [list.id], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    expect(await createPlanner(t.deps, t.core.collab, 'chunk-planner').tick()).toBe(true);
    const rows = await t.db.db.selectFrom('messages').select(['id', 'rcpt', 'status', 'reason']).where('campaign_id', '=', c.json.id).execute();
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.rcpt)).size).toBe(n);
    expect(rows.filter((r) => r.status === 'skipped').map((r) => r.rcpt).sort()).toEqual([...blocked].sort());
    expect(rows.filter((r) => r.status === 'skipped').every((r) => r.reason === 'suppressed:unsubscribe')).toBe(true);
    const events = await t.db.db.selectFrom('events').select(['message_id', 'data']).where('campaign_id', '=', c.json.id).where('type', '=', 'skipped').execute();
    expect(events.map((e) => Number(e.message_id)).sort((a, b) => a - b)).toEqual(rows.filter((r) => r.status === 'skipped').map((r) => Number(r.id)).sort((a, b) => a - b));
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/progress`)).json).toMatchObject({ planned: n });
  });

  it('plans a campaign over several overlapping lists across page boundaries: each recipient once, in id order, from a list where it is subscribed', async () => {
    // A: ml0..ml1499 (every 7th unsubscribed), B: ml1000..ml2599: 2,600 recipients over three pages.
    const addr = (i: number) => `ml${i}@example.org`;
    const a = await seedList(t.db.db, t.accountId, 'MultiA', Array.from({ length: 1500 }, (_, i) => addr(i)), { status: (i) => (i % 7 === 0 ? 'unsubscribed' : 'subscribed') });
    const b = await seedList(t.db.db, t.accountId, 'MultiB', Array.from({ length: 1600 }, (_, i) => addr(1000 + i)));
    const c = await t.api('POST', '/v1/campaigns', { name: 'Multi', list_ids: [a.id, b.id], from: 'news@example.com', subject: 'S', text: 'T {{ unsubscribe_url }}' });
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    expect(await createPlanner(t.deps, t.core.collab, 'multi-planner').tick()).toBe(true);
    const rows = await t.db.db.selectFrom('messages').select(['id', 'rcpt', 'contact_id', 'list_id', 'status', 'reason']).where('campaign_id', '=', c.json.id).orderBy('id').execute();
    expect(rows).toHaveLength(2600);
    expect(new Set(rows.map((r) => r.rcpt)).size).toBe(2600);
    // Planned in contact-id order (message ids follow the plan).
    const cids = rows.map((r) => Number(r.contact_id));
    expect(cids).toEqual([...cids].sort((x, y) => x - y));
    const byRcpt = new Map(rows.map((r) => [r.rcpt, r]));
    for (let i = 0; i < 2600; i++) {
      const r = byRcpt.get(addr(i))!;
      const inA = i < 1500 && i % 7 !== 0;
      const inB = i >= 1000;
      if (inA && inB) expect(r.list_id).toBe([a.id, b.id].sort()[0]);
      else if (inA) expect(r.list_id).toBe(a.id);
      else if (inB) expect(r.list_id).toBe(b.id);
      else expect(r).toMatchObject({ status: 'skipped', reason: 'unsubscribed' });
      if (inA || inB) expect(r.status).toBe('queued');
    }
    await t.api('POST', `/v1/campaigns/${c.json.id}/cancel`, {});
  });

  it('filters the send log by campaign, recipient and status', async () => {
    const byRcpt = await t.api('GET', '/v1/messages?recipient=P3@example.org');
    expect(byRcpt.json.items.length).toBeGreaterThanOrEqual(2);
    expect(byRcpt.json.items.every((m: { to: string }) => m.to === 'p3@example.org')).toBe(true);
    const skipped = await t.api('GET', '/v1/messages?status=skipped&limit=5');
    expect(skipped.json.items).toHaveLength(5);
    expect(skipped.json.next_cursor).not.toBeNull();
  });

  it('refuses oversized attachments and non-https unsubscribe bases with clear codes', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024, 1).toString('base64');
    const r = await t.api('POST', '/v1/messages', { from: 'notice@example.com', to: ['a@example.net'], subject: 'x', text: 'y', category: 'transactional', attachments: [{ filename: 'a.bin', content_type: 'application/octet-stream', content: big }] });
    expect([r.status, r.json.error.code]).toEqual([413, 'E_TOO_LARGE']);
    await t.core.domains.addDomain(t.accountId, 'plain.example');
    t.deps.config.http.publicUrl = 'http://localhost:8025';
    try {
      const s = await t.api('POST', '/v1/messages', { from: 'n@plain.example', to: ['a@example.net'], subject: 'x', text: 'y', category: 'subscription', list_id: listId });
      expect([s.status, s.json.error.code]).toEqual([422, 'E_UNSUBSCRIBE_URL']);
    } finally {
      t.deps.config.http.publicUrl = 'https://mail.tegami.test';
    }
  });
});
