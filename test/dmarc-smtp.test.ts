import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { OWN_DMARC, readManifest, sharedAvailable, sharedFile } from './fixtures/dmarc/manifest.js';

const HAVE = sharedAvailable();

/** Sends over a real SMTP session to the inbound server; returns the reply or the error's reply. */
async function send(port: number, to: string, mail: { raw?: Buffer; attachments?: Array<{ filename: string; content: Buffer; contentType?: string }> }) {
  const tr = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5000 });
  try {
    const info = mail.raw
      ? await tr.sendMail({ envelope: { from: 'noreply-dmarc@reporter.example', to: [to] }, raw: mail.raw })
      : await tr.sendMail({ from: 'noreply-dmarc@reporter.example', to, subject: 'Report Domain: x', text: 'DMARC aggregate report', attachments: mail.attachments });
    return { ok: true, text: info.response };
  } catch (e) {
    return { ok: false, text: String((e as { response?: string }).response ?? e) };
  } finally {
    tr.close();
  }
}

describe.each(DIALECTS)('DMARC reports mailed to the rua address on %s (issue 9)', (dialect) => {
  let t: TestApp;
  let rua: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'smtp'], create: { inboundPort: 0 } });
    await t.core.domains.addDomain(t.accountId, 'mail-shop.com');
    rua = (await t.api('GET', '/v1/dmarc/address')).json.address;
  });
  afterAll(async () => { await t?.close(); });

  it.skipIf(!HAVE)('stores every report e-mail of the corpus before the 250, with the manifest\'s figures', async () => {
    const emails = readManifest().filter((r) => r.file.endsWith('.eml'));
    expect(emails.length).toBe(7);
    for (const row of emails) {
      const r = await send(t.inboundPort!, rua, { raw: sharedFile(row.file) });
      expect(r.ok, `${row.file}: ${r.text}`).toBe(true);
      const list = await t.api('GET', `/v1/dmarc/reports?domain=${row.domain}&limit=500`);
      const got = list.json.items.find((x: { report_id: string }) => x.report_id === row.reportId);
      expect(got, row.file).toMatchObject({ source: 'smtp', org_name: row.reporter, record_count: row.records, message_count: row.messages });
    }
  });

  it.skipIf(!HAVE)('accepts a composed report with .xml.gz and .zip attachments at the return-path domain, and a duplicate with 250', async () => {
    const at = rua.replace('@localhost', '@bounces.mail-shop.com');
    const gz = zlib.gzipSync(sharedFile('cryinc-gmxnet.xml'));
    const r = await send(t.inboundPort!, at, { attachments: [{ filename: 'gmx.net!myserver.com!1733184000!1733270399.xml.gz', content: gz, contentType: 'application/gzip' }] });
    expect(r.ok, r.text).toBe(true);
    const zip = sharedFile('parsedmarc-estadocuenta1.infonacot.gob.mx_example.com_1536853302_1536939702_2940.xml.zip');
    expect((await send(t.inboundPort!, `dmarc@bounces.mail-shop.com`, { attachments: [{ filename: 'r.zip', content: zip, contentType: 'application/octet-stream' }] })).ok).toBe(true);
    const items = (await t.api('GET', '/v1/dmarc/reports?limit=500')).json.items as Array<{ report_id: string; source: string }>;
    expect(items.filter((x) => ['6d2be94cbabf4e838a3cf58fb4a42ab5', '2940'].includes(x.report_id)).map((x) => x.source)).toEqual(['smtp', 'smtp']);
    const before = items.length;
    const dup = await send(t.inboundPort!, rua, { attachments: [{ filename: 'again.xml.gz', content: gz }] });
    expect(dup.ok, dup.text).toBe(true);
    expect((await t.api('GET', '/v1/dmarc/reports?limit=500')).json.items.length).toBe(before);
  });

  it('refuses a hostile report with a 5xx naming its code, and forged or foreign addresses at RCPT', async () => {
    const before = (await t.api('GET', '/v1/dmarc/reports?limit=500')).json.items.length;
    const lol = await send(t.inboundPort!, rua, { attachments: [{ filename: 'lol.xml', content: readFileSync(join(OWN_DMARC, 'billion-laughs.xml')), contentType: 'application/xml' }] });
    expect(lol.ok).toBe(false);
    expect(lol.text).toMatch(/^554 5\.6\.0 .*E_DMARC_DOCTYPE/);
    const none = await send(t.inboundPort!, rua, { attachments: [{ filename: 'a.txt', content: Buffer.from('hello'), contentType: 'text/plain' }] });
    expect(none.text).toMatch(/^554 5\.6\.0 .*E_DMARC_NO_REPORT/);
    const forged = rua.replace(/[0-9a-f]{4}@/, '0000@');
    for (const to of [forged, rua.replace('@localhost', '@elsewhere.example'), 'dmarc@localhost', `dmarc+${t.accountId}@localhost`]) {
      const r = await send(t.inboundPort!, to, { attachments: [{ filename: 'x.xml', content: Buffer.from('<feedback/>') }] });
      expect(r.ok, to).toBe(false);
      expect(r.text, to).toMatch(/^550 5\.1\.1/);
    }
    expect((await t.api('GET', '/v1/dmarc/reports?limit=500')).json.items.length).toBe(before);
  });
});
