import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordComplaint } from '../src/compliance/spam-rate.js';
import type { AttemptRecord, MessageRow } from '../src/store/messages-repo.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { goodZone, zoneResolver, type Zone } from './fixtures/lint/dns-zone.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(DIALECTS)('compliance guard on %s (issue 6 items 4–6)', (dialect) => {
  let t: TestApp;
  const zone: Zone = {};
  const dom: Record<string, string> = {};
  let fakeId = 10_000_000;

  /** Rows as the worker hands them to the guard (only the fields the guard reads matter). */
  const rows = (n: number, from: (i: number) => string, rcpt: (i: number) => string, domainId: string, accountId = t.accountId) =>
    Array.from({ length: n }, (_, i) => ({ id: fakeId++, account_id: accountId, from_address: from(i), rcpt: rcpt(i), domain_id: domainId, category: 'subscription' }) as unknown as MessageRow);
  const sentRecords = (rs: MessageRow[]) => rs.map((r) => ({ id: r.id, status: 'sent', reason: null, lastReply: null, event: {} }) as unknown as AttemptRecord);
  const alerts = async (kind: string) => (await t.db.db.selectFrom('events').select('data').where('type', '=', 'alert').where('account_id', '=', t.accountId).execute())
    .map((a) => JSON.parse(a.data!)).filter((a) => a.kind === kind);
  const addChecked = async (name: string) => {
    const d = await t.api('POST', '/v1/domains', { name });
    Object.assign(zone, goodZone({ domain: name, rp: `bounces.${name}`, keys: d.json.keys, ip: '203.0.113.5', host: 'mta.solarmora.com' }));
    expect((await t.api('GET', `/v1/domains/${d.json.id}/check?refresh=1`)).json.gates).toEqual({ dkim: true, dmarc: true });
    dom[name] = d.json.id;
  };
  const warmAlready = (domainId: string) => t.db.db.insertInto('warmup_subjects').values({ account_id: t.accountId, subject: `domain:${domainId}`, started_at: t.clock.now() - 30 * DAY }).execute();
  const statuses = async (where: { campaign_id?: string; domain_id?: string }) => {
    let q = t.db.db.selectFrom('messages').select(['status', 'reason', 'attempts', 'id']);
    if (where.campaign_id) q = q.where('campaign_id', '=', where.campaign_id);
    if (where.domain_id) q = q.where('domain_id', '=', where.domain_id);
    return q.execute();
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      roles: ['api', 'worker'],
      configure: (c) => { c.dns.sendingIps = '203.0.113.5'; c.smtp.hostname = 'mta.solarmora.com'; c.compliance.hourlyCaps.gmail = 5; },
    });
    t.core.compliance.useResolver(zoneResolver(zone));
    for (const n of ['solarmora.com', 'warmshop.com', 'spamco.com']) await addChecked(n);
  });
  afterAll(async () => { await t?.close(); });

  it('warm-up holds a new domain\'s campaign at the day-0 cap: messages stay queued with the reason, more go a day later (R-VOL-1)', async () => {
    const list = await seedList(t.db.db, t.accountId, 'Launch', Array.from({ length: 80 }, (_, i) => `reader${i}@example.net`));
    const c = await t.api('POST', '/v1/campaigns', { name: 'launch', list_ids: [list.id], from: 'news@solarmora.com', subject: 'Hello', html: '<p>Hi {{ name }}</p>' });
    expect((await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {})).status).toBe(200);
    const sentAt = t.clock.now();
    await t.sending!.drain();
    let ms = await statuses({ campaign_id: c.json.id });
    expect(ms.filter((m) => m.status === 'sent')).toHaveLength(50);
    const held = ms.filter((m) => m.status === 'queued');
    expect(held).toHaveLength(30);
    expect(held.every((m) => m.reason === 'warmup' && m.attempts === 0)).toBe(true);
    // They are looked at again when the first hour's sends leave the rolling 24 hours, not every hour.
    const next = await t.db.db.selectFrom('messages').select('next_attempt_at').where('id', 'in', held.map((m) => m.id)).execute();
    expect(new Set(next.map((n) => Number(n.next_attempt_at)))).toEqual(new Set([Math.floor(sentAt / HOUR) * HOUR + DAY]));
    // A hold is not an attempt: the held messages have no event besides their planning.
    const ev = await t.db.db.selectFrom('events').select(['type']).where('message_id', 'in', held.map((m) => m.id)).execute();
    expect(ev.every((e) => e.type === 'queued')).toBe(true);
    expect(await t.core.compliance.heldReasons(t.accountId, c.json.id)).toMatchObject({ warmup: { count: 30 } });
    expect((await t.api('GET', `/v1/compliance/held?campaign_id=${c.json.id}`)).json).toEqual({ campaign_id: c.json.id, held: { warmup: { count: 30, next_attempt_at: Math.floor(sentAt / HOUR) * HOUR + DAY } } });
    expect((await t.api('GET', '/v1/compliance/held?campaign_id=cmp_nope')).status).toBe(404);
    const w = (await t.api('GET', '/v1/compliance/warmup')).json;
    expect(w.schedule[0]).toBe(50);
    expect(w.schedule[w.schedule.length - 1]).toBe(1000);
    expect(w.domains.find((d: { domain: string }) => d.domain === 'solarmora.com')).toMatchObject({ day: 0, daily_cap: 50, sent_24h: 50, remaining: 0 });
    // An hour later the rolling 24 hours still hold the 50: nothing more goes.
    t.clock.advance(HOUR);
    await t.sending!.drain();
    expect((await statuses({ campaign_id: c.json.id })).filter((m) => m.status === 'sent')).toHaveLength(50);
    // A day later the cap is higher (≈70) and the first day's sends have left the window.
    t.clock.advance(DAY);
    await t.sending!.drain();
    ms = await statuses({ campaign_id: c.json.id });
    expect(ms.filter((m) => m.status === 'sent')).toHaveLength(80);
    const vol = (await t.api('GET', '/v1/compliance/volume')).json;
    expect(vol.daily.filter((r: { org_domain: string }) => r.org_domain === 'solarmora.com').reduce((a: number, r: { count: number }) => a + r.count, 0)).toBe(80);
  });

  it('lets a person backdate the warm-up of a domain with sending history elsewhere; recorded with who and why', async () => {
    const d = await t.api('POST', '/v1/domains', { name: 'movedshop.com' });
    const bad = await t.api('POST', `/v1/compliance/warmup/${d.json.id}`, { started_at: t.clock.now() + DAY, note: 'future' });
    expect(bad.json.error.code).toBe('E_VALIDATION');
    const r = await t.api('POST', `/v1/compliance/warmup/${d.json.id}`, { started_at: t.clock.now() - 40 * DAY, note: 'sent 20k/day from our old ESP since 2024' });
    expect(r.json).toMatchObject({ domain: 'movedshop.com', day: 40, daily_cap: null, warm: true });
    expect((await alerts('warmup_set'))[0]).toMatchObject({ domain_id: d.json.id, by: expect.stringMatching(/^key:/), note: 'sent 20k/day from our old ESP since 2024' });
    const other = await t.core.accounts.createAccount('Other');
    const theirs = await t.core.domains.addDomain(other.id, 'other-moved.com');
    expect((await t.api('POST', `/v1/compliance/warmup/${theirs.id}`, { started_at: 0, note: 'not mine' })).status).toBe(404);
  });

  it('does not hold or start the warm-up of a test domain (capture-only trial without DNS)', async () => {
    const d = await t.core.domains.addDomain(t.accountId, 'trial.example');
    const to = Array.from({ length: 60 }, (_, i) => `t${i}@example.net`);
    expect((await t.api('POST', '/v1/messages', { from: 'hi@trial.example', to, subject: 's', text: 'x', category: 'transactional' })).status).toBe(202);
    await t.sending!.drain();
    const ms = await t.db.db.selectFrom('messages').select('status').where('domain_id', '=', d.id).execute();
    expect(ms.filter((m) => m.status === 'sent')).toHaveLength(60);
    expect(await t.db.db.selectFrom('warmup_subjects').selectAll().where('subject', '=', `domain:${d.id}`).execute()).toEqual([]);
  });

  it('caps each provider per hour: over the cap stays queued as hourly_cap:gmail, other providers go (R-VOL-2)', async () => {
    await warmAlready(dom['warmshop.com']);
    const to = [...Array.from({ length: 8 }, (_, i) => `buyer${i}@gmail.com`), 'a@example.net', 'b@example.org'];
    expect((await t.api('POST', '/v1/messages', { from: 'orders@warmshop.com', to, subject: 'Receipt', text: 'Thanks', category: 'transactional' })).status).toBe(202);
    await t.sending!.drain();
    const ms = await t.db.db.selectFrom('messages').select(['rcpt', 'status', 'reason']).where('domain_id', '=', dom['warmshop.com']).execute();
    expect(ms.filter((m) => m.status === 'sent' && m.rcpt.endsWith('@gmail.com'))).toHaveLength(5);
    expect(ms.filter((m) => m.status === 'queued').map((m) => m.reason)).toEqual(['hourly_cap:gmail', 'hourly_cap:gmail', 'hourly_cap:gmail']);
    expect(ms.filter((m) => !m.rcpt.endsWith('@gmail.com')).every((m) => m.status === 'sent')).toBe(true);
    t.clock.advance(HOUR);
    await t.sending!.drain();
    expect((await t.db.db.selectFrom('messages').select('status').where('domain_id', '=', dom['warmshop.com']).execute()).every((m) => m.status === 'sent')).toBe(true);
  });

  it('sets the permanent Gmail bulk-sender flag at 5,000 in 24 hours across subdomains, alerting at 4,500 (R-SCOPE-1)', async () => {
    const guard = t.core.collab.guard;
    for (let b = 0; b < 10; b++) {
      // 2,500 from solarmora.com and 2,500 from promotions.solarmora.com, to gmail.com and googlemail.com.
      const rs = rows(500, (i) => (i % 2 ? 'deals@promotions.solarmora.com' : 'news@solarmora.com'), (i) => `u${b}_${i}@${i % 5 ? 'gmail.com' : 'googlemail.com'}`, dom['solarmora.com']);
      await guard.recorded(rs, sentRecords(rs), t.clock.now());
      if (b === 7) expect(await alerts('bulk_sender_near')).toHaveLength(0);
      if (b === 8) expect((await alerts('bulk_sender_near'))[0]).toMatchObject({ org_domain: 'solarmora.com', provider: 'gmail', rolling_24h: 4500 });
      if (b === 8) expect((await t.api('GET', '/v1/compliance/bulk-senders')).json.items).toEqual([]);
      t.clock.advance(HOUR);
    }
    expect((await alerts('bulk_sender'))[0]).toMatchObject({ org_domain: 'solarmora.com', provider: 'gmail', rolling_24h: 5000, rule: 'R-SCOPE-1' });
    const vol = (await t.api('GET', '/v1/compliance/volume')).json;
    expect(vol.rolling.find((r: { org_domain: string; provider: string }) => r.org_domain === 'solarmora.com' && r.provider === 'gmail').rolling_24h).toBe(5000);
    // Permanent: days later, with no volume in the window, the flag stays and no second alert is raised.
    t.clock.advance(3 * DAY);
    const rs = rows(10, () => 'news@solarmora.com', (i) => `late${i}@gmail.com`, dom['solarmora.com']);
    await guard.recorded(rs, sentRecords(rs), t.clock.now());
    const bulk = (await t.api('GET', '/v1/compliance/bulk-senders')).json.items;
    expect(bulk).toEqual([{ org_domain: 'solarmora.com', provider: 'gmail', since: expect.any(Number) }]);
    expect(await alerts('bulk_sender')).toHaveLength(1);
  });

  it('counts a rolling 24 hours, not forever: 3,000 then 2,500 a day apart to Outlook.com set no flag (R-SCOPE-3)', async () => {
    const guard = t.core.collab.guard;
    const a = rows(3000, () => 'info@warmshop.com', (i) => `o${i}@${i % 2 ? 'hotmail.com' : 'outlook.com'}`, dom['warmshop.com']);
    await guard.recorded(a, sentRecords(a), t.clock.now());
    t.clock.advance(DAY + HOUR);
    const b = rows(2500, () => 'info@warmshop.com', (i) => `p${i}@live.com`, dom['warmshop.com']);
    await guard.recorded(b, sentRecords(b), t.clock.now());
    expect((await t.api('GET', '/v1/compliance/bulk-senders')).json.items.filter((x: { provider: string }) => x.provider === 'outlook')).toEqual([]);
  });

  it('pauses subscription mail at a 0.3 % spam rate until a person resumes it; warns at 0.1 % (R-CMPL-1)', async () => {
    const d = dom['spamco.com'];
    await warmAlready(d);
    const delivered = rows(1000, () => 'news@spamco.com', (i) => `r${i}@example.net`, d);
    await t.core.collab.guard.recorded(delivered, sentRecords(delivered), t.clock.now());
    const msg = { id: Number(delivered[0].id), domain_id: d };
    expect(await recordComplaint(t.deps, t.accountId, msg, t.clock.now())).toMatchObject({ complaints: 1, delivered: 1000, level: 'warning' });
    expect((await alerts('spam_rate_warning'))[0]).toMatchObject({ domain_id: d, rate: 0.001 });
    await recordComplaint(t.deps, t.accountId, msg, t.clock.now());
    expect(await alerts('spam_rate_paused')).toHaveLength(0);
    expect(await recordComplaint(t.deps, t.accountId, msg, t.clock.now())).toMatchObject({ complaints: 3, level: 'paused' });
    expect((await alerts('spam_rate_paused'))[0]).toMatchObject({ domain_id: d, rate: 0.003, threshold: 0.003 });
    expect(await alerts('spam_rate_warning')).toHaveLength(1);

    const list = await seedList(t.db.db, t.accountId, 'Spammy', []);
    await t.api('POST', '/v1/messages', { from: 'news@spamco.com', to: ['x@example.net'], subject: 's', html: '<p>x</p>', category: 'subscription', list_id: list.id });
    await t.api('POST', '/v1/messages', { from: 'orders@spamco.com', to: ['y@example.net'], subject: 's', text: 'x', category: 'transactional' });
    await t.sending!.drain();
    const ms = await t.db.db.selectFrom('messages').select(['category', 'status', 'reason']).where('domain_id', '=', d).execute();
    expect(ms.find((m) => m.category === 'subscription')).toMatchObject({ status: 'queued', reason: 'paused:spam_rate' });
    expect(ms.find((m) => m.category === 'transactional')).toMatchObject({ status: 'sent' });
    const sr = (await t.api('GET', '/v1/compliance/spam-rate')).json;
    expect(sr.days.find((x: { domain_id: string }) => x.domain_id === d)).toMatchObject({ delivered: 1001, complaints: 3, level: 'warning' }); // 3 / 1,001: the day's rate moved below 0.3 %
    expect(sr.streams[0]).toMatchObject({ domain_id: d, kind: 'spam_rate', active: true });

    const other = await t.core.accounts.createAccount('Other');
    const theirs = await t.core.domains.addDomain(other.id, 'theirs-tenant.com');
    expect((await t.api('POST', `/v1/compliance/streams/${theirs.id}/resume`, { note: 'not mine' })).status).toBe(404);
    expect((await t.api('POST', `/v1/compliance/streams/${d}/resume`, {})).status).toBe(400);
    const r = await t.api('POST', `/v1/compliance/streams/${d}/resume`, { note: 'list cleaned, complainers suppressed' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ domain: 'spamco.com', resumed: 1, resumed_by: expect.stringMatching(/^key:/) });
    const h = (await t.api('GET', '/v1/compliance/spam-rate')).json.streams[0];
    expect(h).toMatchObject({ active: false, resumed_by: r.json.resumed_by, resume_note: 'list cleaned, complainers suppressed', resumed_at: t.clock.now() });
    expect((await t.api('POST', `/v1/compliance/streams/${d}/resume`, { note: 'again' })).json.error.code).toBe('E_STATE');
    t.clock.advance(HOUR);
    await t.sending!.drain();
    expect((await t.db.db.selectFrom('messages').select('status').where('domain_id', '=', d).where('category', '=', 'subscription').executeTakeFirstOrThrow()).status).toBe('sent');
  });

  it('counts the batches another lane of this process admitted but has not recorded yet (worker.lanes)', async () => {
    // One minute into a fresh hour (the gmail cap is 5 per hour in this suite); warmshop.com is warm.
    t.clock.advance(2 * HOUR - (t.clock.now() % HOUR) + 60_000);
    const batch = (n: number) => rows(n, () => 'orders@warmshop.com', (i) => `lane${fakeId}-${i}@gmail.com`, dom['warmshop.com'])
      .map((r) => ({ ...r, category: 'transactional' }) as MessageRow);
    const admit = async (rs: MessageRow[]) => [...(await t.core.collab.guard.admit(rs, t.clock.now())).values()].map((h) => h.reason);
    const a = batch(4);
    expect(await admit(a)).toEqual([]);
    // Lane 2 claims while lane 1's four are still transmitting: only one more fits this hour.
    const b = batch(4);
    expect(await admit(b)).toEqual(['hourly_cap:gmail', 'hourly_cap:gmail', 'hourly_cap:gmail']);
    // Lane 1 records: its four are in the counters now (not counted twice); lane 2's one is still in flight.
    await t.core.collab.guard.recorded(a, sentRecords(a), t.clock.now());
    expect(await admit(batch(1))).toEqual(['hourly_cap:gmail']);
    // Lane 2's batch outlasts the lease (its lease is renewed while it transmits): its reservation still counts.
    t.clock.advance(t.deps.config.worker.leaseSeconds * 1000 + 1000);
    expect(await admit(batch(1))).toEqual(['hourly_cap:gmail']);
    // Lane 2 could not record (the worker then reports no records): its reservation ends, nothing was counted.
    await t.core.collab.guard.recorded(b, [], t.clock.now());
    expect(await admit(batch(1))).toEqual([]);
  });

  it('warms the IP pool under direct MX delivery: the pool\'s day-0 allowance is 50 per IP', async () => {
    t.deps.config.transport.kind = 'mx';
    t.deps.config.dns.sendingIps = '203.0.113.5, 203.0.113.6';
    try {
      const rs = rows(130, () => 'news@warmshop.com', (i) => `ip${i}@example.net`, dom['warmshop.com']);
      const held = await t.core.collab.guard.admit(rs, t.clock.now());
      expect(held.size).toBe(30);
      expect([...held.values()].every((h) => h.reason === 'warmup:ip')).toBe(true);
    } finally {
      t.deps.config.transport.kind = 'capture';
      t.deps.config.dns.sendingIps = '203.0.113.5';
    }
  });
});
