import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS, itWhere } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';
import { goodZone, zoneResolver, type Zone } from './fixtures/lint/dns-zone.js';

const run = promisify(execFile);
type Finding = { id: string; rule: string; severity: string; message: string; evidence: Array<{ name: string; type: string }>; fix: { type: string; name: string; value: string } | null };

describe.each(DIALECTS)('domain check and preflight gates on %s (issue 6 items 1–2)', (dialect) => {
  let t: TestApp;
  let zone: Zone;
  let domainId: string;
  let keys: Array<{ selector: string; algorithm: string; public_key: string }>;
  let listId: string;
  const DOMAIN = 'solarmora.com';
  const RP = 'bounces.solarmora.com';
  const check = async (refresh = true) => (await t.api('GET', `/v1/domains/${domainId}/check${refresh ? '?refresh=1' : ''}`));
  const byId = (r: { json: { findings: Finding[] } }, id: string) => r.json.findings.filter((f) => f.id === id);
  const send = () => t.api('POST', '/v1/messages', { from: `news@${DOMAIN}`, to: ['tanaka@example.net'], subject: 'Weekly', html: '<p>Hi</p>', category: 'subscription', list_id: listId });

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      configure: (c) => { c.dns.sendingIps = '203.0.113.5'; c.smtp.hostname = 'mta.solarmora.com'; },
    });
    const d = await t.api('POST', '/v1/domains', { name: DOMAIN });
    domainId = d.json.id;
    keys = d.json.keys;
    listId = (await seedList(t.db.db, t.accountId, 'News', [])).id;
  });
  beforeEach(() => {
    zone = goodZone({ domain: DOMAIN, rp: RP, keys, ip: '203.0.113.5', host: 'mta.solarmora.com' });
    t.core.compliance.useResolver(zoneResolver(zone));
  });
  afterAll(async () => { await t?.close(); });

  it('refuses a subscription send from a domain never checked, naming the rule (R-AUTH-2, R-SCOPE-2)', async () => {
    const r = await send();
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: 'E_COMPLIANCE', details: { rule: 'R-AUTH-2', domain: DOMAIN } });
    expect(r.json.error.message).toMatch(/^R-AUTH-2: /);
    expect(await t.db.db.selectFrom('messages').select('id').execute()).toHaveLength(0);
  });

  it('passes a correct zone: every finding has a rule, severity and DNS evidence; the domain becomes verified', async () => {
    const r = await check();
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ domain: DOMAIN, ok: true, status: 'verified', gates: { dkim: true, dmarc: true } });
    for (const f of r.json.findings as Finding[]) {
      expect(f.rule).toMatch(/^R-[A-Z]+-\d+$/);
      expect(['error', 'warning', 'info', 'pass']).toContain(f.severity);
    }
    expect(byId(r, 'dkim.published')).toHaveLength(2);
    expect(byId(r, 'spf.authorised')[0].evidence.map((e) => `${e.type} ${e.name}`)).toContain(`TXT ${RP}`);
    expect(byId(r, 'ptr.fcrdns')).toHaveLength(1);
    expect(byId(r, 'dmarc.policy')[0].evidence.map((e) => e.name)).toContain(`_dmarc.${DOMAIN}`);
    expect(byId(r, 'infra.mx').length).toBe(2);
    expect(byId(r, 'tls.mta_sts')).toHaveLength(1);
    // The stored result is served without DNS.
    t.core.compliance.useResolver(async () => { throw new Error('no DNS expected'); });
    expect((await check(false)).json.checked_at).toBe(r.json.checked_at);
    expect((await send()).status).toBe(202);
  });

  itWhere(dialect === 'sqlite')('tegami domain check DOMAIN --stored prints the findings and exits 1 on an error finding', async () => {
    const cli = () => run('npx', ['tsx', 'src/cli/main.ts', '--database', t.db.url, '--json', 'domain', 'check', DOMAIN, '--stored', '--account', t.accountId],
      { cwd: process.cwd(), timeout: 60_000, env: { ...process.env, TEGAMI_MASTER_KEY: randomBytes(32).toString('base64'), TEGAMI_LOG_LEVEL: 'silent' } })
      .then((r) => ({ code: 0, out: r.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
    await check();
    const ok = await cli();
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ domain: DOMAIN, ok: true, gates: { dkim: true, dmarc: true } });
    zone[`_dmarc.${DOMAIN}`].TXT = ['v=DMARC1; rua=mailto:x@solarmora.com'];
    await check();
    const bad = await cli();
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).findings.find((f: Finding) => f.id === 'dmarc.no_policy').rule).toBe('R-AUTH-3');
  }, 120_000);

  it('finds SPF with 11 DNS lookups a permerror (R-AUTH-11) with the include chain as evidence', async () => {
    const incs = Array.from({ length: 11 }, (_, i) => `s${i}.spf.example.net`);
    zone[RP].TXT = [`v=spf1 ${incs.map((h) => `include:${h}`).join(' ')} ip4:203.0.113.5 -all`];
    for (const h of incs) zone[h] = { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] };
    const r = await check();
    const [f] = byId(r, 'spf.permerror');
    expect(f).toMatchObject({ rule: 'R-AUTH-11', severity: 'error' });
    expect(f.message).toMatch(/11 DNS lookups, limit 10/);
    expect(f.evidence.filter((e) => e.name.endsWith('.spf.example.net')).length).toBeGreaterThanOrEqual(10);
    expect(f.fix?.name).toBe(RP);
    expect(r.json.ok).toBe(false);
    // Ten includes stay valid but are warned about (≥ 8 lookups).
    zone[RP].TXT = [`v=spf1 ${incs.slice(0, 9).map((h) => `include:${h}`).join(' ')} ip4:203.0.113.5 -all`];
    const ok = await check();
    expect(byId(ok, 'spf.lookups')[0]).toMatchObject({ severity: 'warning', rule: 'R-AUTH-11' });
    expect(byId(ok, 'spf.authorised')).toHaveLength(1);
  });

  it('finds a third void lookup and two SPF records permanent errors (R-AUTH-11)', async () => {
    zone[RP].TXT = ['v=spf1 a:gone1.solarmora.com a:gone2.solarmora.com a:gone3.solarmora.com ip4:203.0.113.5 -all'];
    const [v] = byId(await check(), 'spf.permerror');
    expect(v.message).toMatch(/void/i);
    expect(v.evidence.filter((e) => e.name.startsWith('gone')).map((e) => (e as { error?: string }).error)).toContain('ENOTFOUND');
    zone[RP].TXT = ['v=spf1 ip4:203.0.113.5 -all', 'v=spf1 include:_spf.example.net -all'];
    const [m] = byId(await check(), 'spf.multiple');
    expect(m).toMatchObject({ rule: 'R-AUTH-11', severity: 'error', fix: { name: RP, value: 'v=spf1 ip4:203.0.113.5 -all' } });
  });

  it('finds an SPF record that does not authorise the sending IP and gives the record with it added', async () => {
    zone[RP].TXT = ['v=spf1 include:_spf.mailer.example ~all'];
    zone['_spf.mailer.example'] = { TXT: ['v=spf1 ip4:198.51.100.7 -all'] };
    const [f] = byId(await check(), 'spf.not_authorised');
    expect(f).toMatchObject({ rule: 'R-AUTH-2', severity: 'error' });
    expect(f.fix).toEqual({ type: 'TXT', name: RP, value: 'v=spf1 include:_spf.mailer.example ip4:203.0.113.5 ~all' });
  });

  it('checks the smarthost\'s addresses when no sending IPs are configured', async () => {
    const cfg = t.deps.config;
    const saved = { ips: cfg.dns.sendingIps, kind: cfg.transport.kind, host: cfg.transport.smtp.host };
    Object.assign(cfg.dns, { sendingIps: '' });
    cfg.transport.kind = 'smtp';
    cfg.transport.smtp.host = 'smtp.relay-provider.net';
    try {
      zone['smtp.relay-provider.net'] = { A: ['198.51.100.7'] };
      const [no] = byId(await check(), 'spf.not_authorised');
      expect(no.message).toContain('198.51.100.7');
      expect(no.message).toContain('smarthost smtp.relay-provider.net');
      zone[RP].TXT = ['v=spf1 ip4:198.51.100.0/24 -all'];
      expect(byId(await check(), 'spf.authorised')[0].message).toContain('198.51.100.7 (smarthost smtp.relay-provider.net)');
    } finally {
      Object.assign(cfg.dns, { sendingIps: saved.ips });
      cfg.transport.kind = saved.kind;
      cfg.transport.smtp.host = saved.host;
    }
  });

  it('finds a DKIM key mismatch and refuses sends on it (R-AUTH-2); the fix is the stored key', async () => {
    const rsa = keys.find((k) => k.algorithm === 'rsa-sha256')!;
    const other = keys.find((k) => k.algorithm === 'ed25519-sha256')!;
    zone[`${rsa.selector}._domainkey.${DOMAIN}`].TXT = ['v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrongkey'];
    delete zone[`${other.selector}._domainkey.${DOMAIN}`];
    const r = await check();
    expect(r.json.gates.dkim).toBe(false);
    const [mm] = byId(r, 'dkim.mismatch');
    expect(mm).toMatchObject({ rule: 'R-AUTH-2', severity: 'error' });
    expect(mm.fix).toEqual({ type: 'TXT', name: `${rsa.selector}._domainkey.${DOMAIN}`, value: `v=DKIM1; k=rsa; p=${rsa.public_key}` });
    expect(byId(r, 'dkim.missing')[0].evidence[0]).toMatchObject({ name: `${other.selector}._domainkey.${DOMAIN}`, error: 'ENOTFOUND' });
    const s = await send();
    expect(s.json.error).toMatchObject({ code: 'E_COMPLIANCE', details: { rule: 'R-AUTH-2' } });
    expect(s.json.error.details.findings.map((x: { id: string }) => x.id).sort()).toEqual(['dkim.mismatch', 'dkim.missing']);
  });

  it('finds DMARC without p= (R-AUTH-3), refuses sends and campaigns with the rule id, raises a drift alert', async () => {
    await check(); // good baseline
    zone[`_dmarc.${DOMAIN}`].TXT = [`v=DMARC1; rua=mailto:dmarc@${RP}; pct=50`];
    const r = await check();
    expect(r.json.gates).toEqual({ dkim: true, dmarc: false });
    const [f] = byId(r, 'dmarc.no_policy');
    expect(f).toMatchObject({ rule: 'R-AUTH-3', severity: 'error' });
    expect(f.fix?.value).toBe(`v=DMARC1; p=none; rua=mailto:dmarc@${RP}`);
    expect(byId(r, 'dmarc.deprecated_tags')[0].rule).toBe('R-AUTH-10');
    const s = await send();
    expect(s.status).toBe(422);
    expect(s.json.error.details.rule).toBe('R-AUTH-3');
    expect(s.json.error.message).toContain('R-AUTH-3');
    const c = await t.api('POST', '/v1/campaigns', { name: 'c', list_ids: [listId], from: `news@${DOMAIN}`, subject: 's', html: '<p>x</p>' });
    const sch = await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    expect(sch.json.error).toMatchObject({ code: 'E_COMPLIANCE', details: { rule: 'R-AUTH-3' } });
    // Transactional mail is not a subscription stream: not gated here.
    expect((await t.api('POST', '/v1/messages', { from: `info@${DOMAIN}`, to: ['a@example.net'], subject: 's', text: 'x', category: 'transactional' })).status).toBe(202);
    const alerts = await t.db.db.selectFrom('events').select('data').where('type', '=', 'alert').where('account_id', '=', t.accountId).execute();
    const drift = alerts.map((a) => JSON.parse(a.data!)).filter((a) => a.kind === 'domain_drift').pop();
    expect(drift).toMatchObject({ domain: DOMAIN, gates_lost: ['dmarc'] });
    expect(drift.new_findings.map((x: { id: string }) => x.id)).toContain('dmarc.no_policy');
  });

  it('flags a domain where the RFC 9989 tree walk and the public-suffix list disagree (R-AUTH-9)', async () => {
    const sub = 'mail.shop.solarmora.com';
    const d = await t.api('POST', '/v1/domains', { name: sub });
    const z = goodZone({ domain: sub, rp: `bounces.${sub}`, keys: d.json.keys, ip: '203.0.113.5', host: 'mta.solarmora.com' });
    delete z[`_dmarc.${sub}`];
    z['_dmarc.shop.solarmora.com'] = { TXT: ['v=DMARC1; p=quarantine; psd=n; rua=mailto:d@shop.solarmora.com'] };
    z['_dmarc.solarmora.com'] = { TXT: ['v=DMARC1; p=none'] };
    const res = zoneResolver(z);
    t.core.compliance.useResolver(res);
    const r = await t.api('GET', `/v1/domains/${d.json.id}/check?refresh=1`);
    const [f] = byId(r, 'dmarc.org_domain_disagreement');
    expect(f).toMatchObject({ rule: 'R-AUTH-9', severity: 'warning' });
    expect(f.message).toContain('shop.solarmora.com');
    expect(f.message).toContain('public-suffix list solarmora.com');
    expect(f.fix?.name).toBe(`_dmarc.${sub}`);
    expect(res.queries).toContain('TXT _dmarc.shop.solarmora.com');
    // The inherited record (psd=n at shop.solarmora.com) still states a policy: the gate passes.
    expect(r.json.gates.dmarc).toBe(true);
  });

  it('checks FCrDNS of the sending IP (R-INFRA-1) and MX of the return path (R-INFRA-6)', async () => {
    zone['mta.solarmora.com'].A = ['203.0.113.99'];
    delete zone[RP].MX;
    const r = await check();
    expect(byId(r, 'ptr.not_confirmed')[0]).toMatchObject({ rule: 'R-INFRA-1', severity: 'error' });
    const [mx] = byId(r, 'infra.no_mx');
    expect(mx).toMatchObject({ rule: 'R-INFRA-6', severity: 'error' });
    expect(mx.fix).toMatchObject({ type: 'MX', name: RP });
    expect(r.json.status).toBe('failing');
  });

  it('releases a stream held for a sender-configuration reply once the check passes again (R-BNC-4)', async () => {
    await t.db.db.insertInto('send_holds').values({
      account_id: t.accountId, domain_id: domainId, stream: 'subscription', reason: 'sender_config', rule_id: 'gmail-dmarc-pol',
      detail: '550 5.7.40', message_id: null, created_at: t.clock.now(), until: null, released_at: null, released_by: null,
    }).execute();
    delete zone[`_dmarc.${DOMAIN}`];
    await check();
    const still = await t.db.db.selectFrom('send_holds').selectAll().where('domain_id', '=', domainId).execute();
    expect(still.map((h) => h.released_at)).toEqual([null]);
    zone[`_dmarc.${DOMAIN}`] = { TXT: [`v=DMARC1; p=none; rua=mailto:dmarc@${RP}`] };
    t.clock.advance(1000);
    expect((await check()).json.ok).toBe(true);
    const after = await t.db.db.selectFrom('send_holds').selectAll().where('domain_id', '=', domainId).execute();
    expect(after).toEqual([expect.objectContaining({ released_by: 'domain-check', released_at: t.clock.now() })]);
  });

  it('refuses a mailbox-provider From (R-AUTH-12), skips DNS gates for test domains, and isolates accounts', async () => {
    await expect(t.core.collab.preflight(t.accountId, { from: 'me@gmail.com', category: 'subscription', domainId: domainId }))
      .rejects.toMatchObject({ code: 'E_COMPLIANCE', details: { rule: 'R-AUTH-12' } });
    await expect(t.core.collab.preflight(t.accountId, { from: 'me@nowhere.example', category: 'subscription', domainId: null }))
      .rejects.toMatchObject({ code: 'E_COMPLIANCE', details: { rule: 'R-AUTH-1' } });
    const td = await t.api('POST', '/v1/domains', { name: 'trial.solarmora.net', test_mode: true });
    const trial = () => t.api('POST', '/v1/messages', { from: 'news@trial.solarmora.net', to: ['x@example.net'], subject: 's', html: '<p>x</p>', category: 'subscription', list_id: listId });
    expect((await trial()).status).toBe(202);
    // Test mode is capture-only: with a transport that delivers, the flagged domain meets every gate.
    t.deps.config.transport.kind = 'smtp';
    try {
      expect((await trial()).json.error).toMatchObject({ code: 'E_COMPLIANCE', details: { rule: 'R-AUTH-2' } });
    } finally {
      t.deps.config.transport.kind = 'capture';
    }
    const other = await t.core.accounts.createAccount('Other');
    const theirs = await t.core.domains.addDomain(other.id, 'other-tenant.com');
    expect((await t.api('GET', `/v1/domains/${theirs.id}/check`)).status).toBe(404);
    expect((await t.api('GET', `/v1/domains/${td.json.id}/check`)).status).toBe(200);
  });
});
