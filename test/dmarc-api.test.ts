import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cli } from './helpers/cli.js';
import { DIALECTS } from './helpers/dialects.js';
import { OWN_DMARC, readManifest, SHARED_DMARC, sharedAvailable, sharedFile, type ManifestRow } from './fixtures/dmarc/manifest.js';
import { reportXml } from './fixtures/dmarc/report-xml.js';

const HAVE = sharedAvailable();

/** The content type a reporter (or a user) would send the file with. */
function contentTypeOf(row: ManifestRow): string {
  if (row.file.endsWith('.eml')) return 'message/rfc822';
  if (row.file.endsWith('.gz')) return 'application/gzip';
  if (row.file.endsWith('.zip')) return 'application/zip';
  return 'application/xml';
}

const count = async (t: TestApp, table: 'dmarc_reports' | 'dmarc_records') =>
  Number((await t.db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe.each(DIALECTS)('DMARC reports through the API and the CLI on %s (issue 9)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => { await t?.close(); });

  it.skipIf(!HAVE)('ingests every shared report with the manifest\'s figures (raw and JSON uploads), refuses the malformed ones writing nothing', async () => {
    const rows = readManifest();
    let records = 0;
    for (const [i, row] of rows.entries()) {
      const bytes = sharedFile(row.file);
      const before = [await count(t, 'dmarc_reports'), await count(t, 'dmarc_records')];
      const res = i % 2 === 0
        ? await t.api('POST', `/v1/dmarc/reports?filename=${encodeURIComponent(row.file)}`, bytes, { 'content-type': contentTypeOf(row) })
        : await t.api('POST', '/v1/dmarc/reports', { filename: row.file, content_base64: bytes.toString('base64') });
      if (!row.valid) {
        expect(res.status, row.file).toBe(400);
        expect(res.json.error.code, row.file).toBe(row.validText.includes('empty') ? 'E_DMARC_EMPTY' : 'E_DMARC_XML');
        expect([await count(t, 'dmarc_reports'), await count(t, 'dmarc_records')], row.file).toEqual(before);
        continue;
      }
      expect(res.status, `${row.file}: ${res.body}`).toBe(201);
      expect(res.json, row.file).toMatchObject({
        duplicate: false, org_name: row.reporter.trim(), report_id: row.reportId, policy_domain: row.domain,
        record_count: row.records, message_count: row.messages, date_begin: row.begin * 1000, date_end: row.end * 1000,
      });
      const got = await t.api('GET', `/v1/dmarc/reports/${res.json.id}`);
      expect(got.status).toBe(200);
      expect(got.json.records.length, row.file).toBe(row.records);
      expect(got.json.records.reduce((n: number, r: { count: number }) => n + r.count, 0)).toBe(row.messages);
      records += row.records;
    }
    expect(await count(t, 'dmarc_reports')).toBe(rows.filter((r) => r.valid).length);
    expect(await count(t, 'dmarc_records')).toBe(records);
  });

  it.skipIf(!HAVE)('ignores a duplicate (same reporter and report id), whatever the container', async () => {
    const before = [await count(t, 'dmarc_reports'), await count(t, 'dmarc_records')];
    const xml = sharedFile('mailauth-002.xml');
    const first = await t.api('GET', '/v1/dmarc/reports?limit=500');
    const orig = first.json.items.find((r: { report_id: string }) => r.report_id === '2122885654478337555');
    const dup = await t.api('POST', '/v1/dmarc/reports', zlib.gzipSync(xml), { 'content-type': 'application/gzip' });
    expect(dup.status).toBe(200);
    expect(dup.json).toMatchObject({ duplicate: true, id: orig.id, report_id: '2122885654478337555' });
    expect([await count(t, 'dmarc_reports'), await count(t, 'dmarc_records')]).toEqual(before);
  });

  it('refuses hostile uploads with their codes and statuses, writing nothing', async () => {
    const { readFileSync } = await import('node:fs');
    const before = [await count(t, 'dmarc_reports'), await count(t, 'dmarc_records')];
    const lol = await t.api('POST', '/v1/dmarc/reports', readFileSync(join(OWN_DMARC, 'billion-laughs.xml')), { 'content-type': 'application/xml' });
    expect([lol.status, lol.json.error.code]).toEqual([400, 'E_DMARC_DOCTYPE']);
    const xxe = await t.api('POST', '/v1/dmarc/reports', { filename: 'x.xml', content_base64: readFileSync(join(OWN_DMARC, 'xxe.xml')).toString('base64') });
    expect([xxe.status, xxe.json.error.code]).toEqual([400, 'E_DMARC_DOCTYPE']);
    const bad = await t.api('POST', '/v1/dmarc/reports', readFileSync(join(OWN_DMARC, 'bad-count.xml')), { 'content-type': 'application/xml' });
    expect([bad.status, bad.json.error.code]).toEqual([422, 'E_DMARC_SCHEMA']);
    const block = zlib.deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: zlib.constants.Z_FULL_FLUSH });
    const bomb = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), ...Array(2048).fill(block), Buffer.from([3, 0]), Buffer.alloc(8)]);
    const b = await t.api('POST', '/v1/dmarc/reports', bomb, { 'content-type': 'application/gzip' });
    expect([b.status, b.json.error.code]).toEqual([413, 'E_DMARC_BOMB']);
    const empty = await t.api('POST', '/v1/dmarc/reports', Buffer.alloc(0), { 'content-type': 'application/xml' });
    expect([empty.status, empty.json.error.code]).toEqual([400, 'E_DMARC_EMPTY']);
    const big = await t.api('POST', '/v1/dmarc/reports', Buffer.alloc(t.deps.config.dmarc.maxInputBytes + 1, 0x3c), { 'content-type': 'application/xml' });
    expect([big.status, big.json.error.code]).toEqual([413, 'E_DMARC_TOO_LARGE']);
    const pdf = await t.api('POST', '/v1/dmarc/reports', Buffer.from('%PDF-1.7'), { 'content-type': 'application/octet-stream' });
    expect([pdf.status, pdf.json.error.code]).toEqual([400, 'E_DMARC_FORMAT']);
    const json = await t.api('POST', '/v1/dmarc/reports', { filename: 'x' });
    expect([json.status, json.json.error.code]).toEqual([400, 'E_VALIDATION']);
    const text = await t.api('POST', '/v1/dmarc/reports', 'hello', { 'content-type': 'text/plain' });
    expect([text.status, text.json.error.code]).toEqual([400, 'E_DMARC_FORMAT']);
    const other = await t.api('POST', '/v1/dmarc/reports', 'hello', { 'content-type': 'image/png' });
    expect(other.status).toBe(415);
    expect([await count(t, 'dmarc_reports'), await count(t, 'dmarc_records')]).toEqual(before);
  });

  it.skipIf(!HAVE)('lists newest first with keyset paging and filters; another account sees nothing and gets 404', async () => {
    const valid = readManifest().filter((r) => r.valid);
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await t.api('GET', `/v1/dmarc/reports?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((r: { id: string }) => r.id));
      cursor = page.json.next_cursor;
    }
    expect(new Set(seen).size).toBe(valid.length);
    expect([...seen].sort().reverse()).toEqual(seen);
    const ex = await t.api('GET', '/v1/dmarc/reports?domain=example.com&limit=500');
    expect(ex.json.items.length).toBe(valid.filter((r) => r.domain === 'example.com').length);
    // Reports overlapping [2024-03-01, 2024-04-01): the Outlook and large example.com ones.
    const period = await t.api('GET', `/v1/dmarc/reports?from=${Date.UTC(2024, 2, 1)}&to=${Date.UTC(2024, 3, 1)}&limit=500`);
    expect(period.json.items.map((r: { report_id: string }) => r.report_id).sort())
      .toEqual(valid.filter((r) => r.end * 1000 >= Date.UTC(2024, 2, 1) && r.begin * 1000 < Date.UTC(2024, 3, 1)).map((r) => r.reportId).sort());
    const other = await t.core.accounts.createAccount('Other');
    const key = await t.core.accounts.createApiKey(other.id, 'k', ['admin']);
    const h = { authorization: `Bearer ${key.key}` };
    const id = seen[0];
    expect((await t.api('GET', `/v1/dmarc/reports/${id}`, undefined, h)).status).toBe(404);
    expect((await t.api('GET', '/v1/dmarc/reports', undefined, h)).json.items).toEqual([]);
    expect((await t.api('GET', '/v1/dmarc/analysis?domain=example.com&from=0&ptr=false', undefined, h)).json.messages).toBe(0);
    const ro = await t.core.accounts.createApiKey(t.accountId, 'ro', ['read']);
    const roh = { authorization: `Bearer ${ro.key}` };
    expect((await t.api('GET', `/v1/dmarc/reports/${id}`, undefined, roh)).status).toBe(200);
    expect((await t.api('POST', '/v1/dmarc/reports', { filename: 'a', content_base64: '' }, roh)).status).toBe(403);
  });

  it('stores a report once when two copies arrive at the same time', async () => {
    const xml = Buffer.from(reportXml('race-1'));
    const before = await count(t, 'dmarc_records');
    const [a, b] = await Promise.all([t.core.dmarc.ingest(t.accountId, xml, { source: 'api' }), t.core.dmarc.ingest(t.accountId, zlib.gzipSync(xml), { source: 'smtp' })]);
    expect([a[0].duplicate, b[0].duplicate].sort()).toEqual([false, true]);
    expect(a[0].id).toBe(b[0].id);
    expect(await count(t, 'dmarc_records')).toBe(before + 1);
  });

  it('returns the rua address to publish, per domain and at the platform host', async () => {
    await t.core.domains.addDomain(t.accountId, 'rua-shop.com');
    const res = await t.api('GET', '/v1/dmarc/address');
    expect(res.status).toBe(200);
    expect(res.json.address).toMatch(new RegExp(`^dmarc\\+${t.accountId}\\.[0-9a-f]{20}@localhost$`));
    const d = res.json.domains.find((x: { domain: string }) => x.domain === 'rua-shop.com');
    expect(d.address).toBe(res.json.address.replace('@localhost', '@bounces.rua-shop.com'));
    expect(d.dmarc_record).toEqual({ name: '_dmarc.rua-shop.com', value: `v=DMARC1; p=none; rua=mailto:${d.address}` });
    expect(res.json.external_authorization).toContainEqual({ domain: 'rua-shop.com', name: 'rua-shop.com._report._dmarc.localhost', value: 'v=DMARC1' });
  });

  it.skipIf(!HAVE)('imports with the CLI (a separate process) and prints the report table and JSON', async () => {
    const files = ['cryinc-aol.xml', 'parsedmarc-empty.xml', 'parsedmarc-fastmail.com_example.com_1516060800_1516147199_102675056.xml.gz'].map((f) => join(SHARED_DMARC, f));
    // AOL and Fastmail were uploaded through the API above: the CLI sees them as duplicates.
    const imp = await cli(t, ['dmarc', 'import', '--account', t.accountId, ...files]);
    expect(imp.code, imp.stderr).toBe(2);
    expect(imp.stdout).toMatch(/cryinc-aol\.xml\s+duplicate\s+AOL/);
    expect(imp.stdout).toMatch(/parsedmarc-empty\.xml\s+refused.*E_DMARC_EMPTY/);
    const rep = await cli(t, ['dmarc', 'report', '--account', t.accountId, '--domain', 'example.com', '--from', '2018-01-01', '--to', '2025-01-01', '--no-ptr']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/^domain example\.com  2018-01-01 \.\. 2025-01-01/);
    expect(rep.stdout).toMatch(/\nip\s+ptr\s+class\s+messages\s+pass/);
    const json = await cli(t, ['dmarc', 'report', '--account', t.accountId, '--domain', 'example.com', '--from', '2018-01-01', '--to', '2025-01-01', '--no-ptr', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const a = JSON.parse(json.stdout);
    const api = await t.api('GET', `/v1/dmarc/analysis?domain=example.com&from=${Date.UTC(2018, 0, 1)}&to=${Date.UTC(2025, 0, 1)}&ptr=false`);
    expect(a.messages).toBe(api.json.messages);
    expect(a.sources.length).toBe(api.json.sources.length);
    expect(a.messages).toBeGreaterThan(2286);
  });
});
