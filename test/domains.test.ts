import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret } from '../src/domain/secrets.js';
import { signMessage } from '../src/render/dkim.js';
import { domainsCore } from '../src/core/domains.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { verifyDkim } from './helpers/dkim.js';

/** A resolver answering only from the records tegami tells the user to publish. */
function resolverFrom(records: Array<{ type: string; name: string; value: string }>) {
  return async (name: string, type: string) => {
    const hits = records.filter((r) => r.type === type && r.name === name.toLowerCase());
    if (hits.length) return hits.map((r) => [r.value]);
    const e = new Error('not found') as Error & { code: string };
    e.code = 'ENOTFOUND';
    throw e;
  };
}

const message = () => new MailComposer({ from: 'a@shop.example', to: 'b@example.net', subject: 's', text: 't' }).compile().build();

describe.each(DIALECTS)('domains and DKIM keys on %s (issue 2 item 6)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); t.clock.set(Date.UTC(2026, 10, 23)); });
  afterAll(async () => { await t?.close(); });

  it('adds a domain with date-named RSA and Ed25519 selectors and keeps private keys encrypted', async () => {
    const r = await t.api('POST', '/v1/domains', { name: 'shop.example' });
    expect(r.status).toBe(201);
    expect(r.json.keys.map((k: { selector: string; algorithm: string }) => [k.selector, k.algorithm])).toEqual([['tg202611r', 'rsa-sha256'], ['tg202611e', 'ed25519-sha256']]);
    expect(r.json.return_path_domain).toBe('bounces.shop.example');
    const rows = await t.db.db.selectFrom('dkim_keys').selectAll().execute();
    for (const row of rows) {
      const pem = decryptSecret(t.deps.masterKey, row.private_key_enc, row.id);
      const body = pem.split('\n')[1];
      const everything = JSON.stringify(await t.db.db.selectFrom('dkim_keys').selectAll().execute()) + JSON.stringify(await t.db.db.selectFrom('domains').selectAll().execute());
      expect(everything).not.toContain('PRIVATE KEY');
      expect(everything).not.toContain(body);
      expect(() => decryptSecret(randomBytes(32), row.private_key_enc, row.id)).toThrow(expect.objectContaining({ code: 'E_MASTER_KEY' }));
    }
    expect(JSON.stringify(r.json)).not.toContain('private');
  });

  it('publishes DNS records that verify mail signed with the stored keys', async () => {
    const dns = await t.api('GET', '/v1/domains/shop.example/dns');
    const records = dns.json.records as Array<{ type: string; name: string; value: string }>;
    expect(records.find((x) => x.name === '_dmarc.shop.example')?.value).toBe('v=DMARC1; p=none; rua=mailto:dmarc@bounces.shop.example');
    expect(records.find((x) => x.type === 'MX')?.name).toBe('bounces.shop.example');
    const ed = records.find((x) => x.name === 'tg202611e._domainkey.shop.example')!;
    expect(ed.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    expect(dns.json.zone).toContain('tg202611r._domainkey.shop.example.\tIN\tTXT\t"v=DKIM1; k=rsa; p=');
    const keys = await t.core.domains.getSigningKeys(t.accountId, 'shop.example');
    const signed = await signMessage(await message(), keys);
    expect((await verifyDkim(signed, resolverFrom(records))).map((x) => x.status.result)).toEqual(['pass', 'pass']);
  });

  it('rotates keys: the old selector stays published and verifying until retired', async () => {
    const oldKeys = await t.core.domains.getSigningKeys(t.accountId, 'shop.example');
    const oldSigned = await signMessage(await message(), oldKeys);
    const rot = await t.api('POST', '/v1/domains/shop.example/rotate-key');
    expect(rot.json.keys.map((k: { selector: string; status: string }) => `${k.selector}:${k.status}`)).toEqual([
      'tg202611r:retiring', 'tg202611e:retiring', 'tg202611br:active', 'tg202611be:active',
    ]);
    let records = (await t.api('GET', '/v1/domains/shop.example/dns')).json.records;
    expect((await verifyDkim(oldSigned, resolverFrom(records))).map((x) => x.status.result)).toEqual(['pass', 'pass']);
    const fresh = await signMessage(await message(), await t.core.domains.getSigningKeys(t.accountId, 'shop.example'));
    expect(fresh.toString()).toContain('s=tg202611br');
    const oldRsa = rot.json.keys[0].id;
    expect((await t.api('POST', `/v1/domains/shop.example/keys/${rot.json.keys[2].id}/retire`)).json.error.code).toBe('E_STATE');
    await t.api('POST', `/v1/domains/shop.example/keys/${oldRsa}/retire`);
    records = (await t.api('GET', '/v1/domains/shop.example/dns')).json.records;
    expect(records.some((x: { name: string }) => x.name.startsWith('tg202611r.'))).toBe(false);
    expect((await verifyDkim(oldSigned, resolverFrom(records)))[0].status.result).not.toBe('pass');
  });

  it('refuses mailbox-provider domains, bad names and duplicates; stores IDN as A-label', async () => {
    for (const name of ['gmail.com', 'mail.yahoo.co.jp', 'hotmail.co.uk', 'docomo.ne.jp']) {
      expect((await t.api('POST', '/v1/domains', { name })).json.error.code).toBe('E_FREEMAIL_DOMAIN');
    }
    expect((await t.api('POST', '/v1/domains', { name: 'bad..name' })).json.error.code).toBe('E_VALIDATION');
    expect((await t.api('POST', '/v1/domains', { name: 'shop.example', return_path_domain: 'bounces.other.example' })).status).toBe(400);
    expect((await t.api('POST', '/v1/domains', { name: 'SHOP.example' })).json.error.code).toBe('E_CONFLICT');
    const idn = await t.api('POST', '/v1/domains', { name: 'メール.example' });
    expect(idn.json.name).toBe('xn--4dkua4c.example');
  });

  it('answers 404 for another account\'s domain on every route', async () => {
    const other = await t.core.accounts.createAccount('Other');
    const k = await t.core.accounts.createApiKey(other.id, 'o', ['admin']);
    const h = { authorization: `Bearer ${k.key}` };
    const id = (await t.api('GET', '/v1/domains')).json.items[0].id;
    for (const [m, u] of [['GET', `/v1/domains/${id}`], ['GET', `/v1/domains/${id}/dns`], ['POST', `/v1/domains/${id}/rotate-key`], ['DELETE', `/v1/domains/${id}`], ['PATCH', `/v1/domains/${id}`]]) {
      expect((await t.api(m, u, m === 'PATCH' ? {} : undefined, h)).status, `${m} ${u}`).toBe(404);
    }
    await expect(domainsCore(t.deps).getSigningKeys(other.id, id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
