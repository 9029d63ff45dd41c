import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { goodZone, zoneResolver, type Zone } from './fixtures/lint/dns-zone.js';

const DAY = 86_400_000;

describe.each(DIALECTS)('periodic domain re-checks on %s (issue 6 item 1)', (dialect) => {
  let t: TestApp;
  const zone: Zone = {};

  beforeAll(async () => {
    // The worker role starts the compliance service, which takes createApp's injected resolver.
    t = await createTestApp(dialect, { roles: ['api', 'worker'], create: { resolver: zoneResolver(zone) }, configure: (c) => { c.compliance.recheckMinutes = 1440; } });
  });
  afterAll(async () => { await t?.close(); });

  it('checks unchecked domains, re-checks stale ones, raises domain_drift when a record disappears, skips test domains', async () => {
    const d = await t.api('POST', '/v1/domains', { name: 'driftco.com' });
    await t.api('POST', '/v1/domains', { name: 'trial.driftco.net', test_mode: true });
    Object.assign(zone, goodZone({ domain: 'driftco.com', rp: 'bounces.driftco.com', keys: d.json.keys, ip: '203.0.113.5', host: 'mta.driftco.com' }));
    const tick = t.services.compliance.info!.tick as () => Promise<number>;
    expect(await tick()).toBe(1);
    const first = (await t.api('GET', `/v1/domains/${d.json.id}/check`)).json;
    expect(first).toMatchObject({ gates: { dkim: true, dmarc: true }, checked_at: t.clock.now() });
    expect(await tick()).toBe(0); // fresh: nothing due
    delete zone['_dmarc.driftco.com'];
    t.clock.advance(DAY + 60_000);
    expect(await tick()).toBe(1);
    const after = (await t.api('GET', `/v1/domains/${d.json.id}/check`)).json;
    expect(after.gates.dmarc).toBe(false);
    expect(after.findings.find((f: { id: string }) => f.id === 'dmarc.missing')).toMatchObject({ rule: 'R-AUTH-3', severity: 'error' });
    const alerts = (await t.db.db.selectFrom('events').select('data').where('type', '=', 'alert').execute()).map((a) => JSON.parse(a.data!));
    expect(alerts.filter((a) => a.kind === 'domain_drift')).toEqual([expect.objectContaining({ domain: 'driftco.com', gates_lost: ['dmarc'] })]);
  });

  it('documents the compliance routes in the OpenAPI document', async () => {
    const doc = (await t.api('GET', '/v1/openapi.json')).json;
    for (const p of ['/v1/domains/{id}/check', '/v1/lint', '/v1/compliance/volume', '/v1/compliance/bulk-senders', '/v1/compliance/spam-rate', '/v1/compliance/warmup', '/v1/compliance/streams/{domainId}/resume']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});
