import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainsCore } from '../src/core/domains.js';
import { dnsRecords, formatZone, type DnsInput } from '../src/domain/dns-records.js';
import { isFreemailDomain } from '../src/domain/freemail.js';
import { decryptSecret } from '../src/domain/secrets.js';
import type { SigningKeys } from '../src/render/dkim.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { verifyDkim } from './helpers/dkim.js';

type Rec = { type: string; name: string; value: string };

/** A resolver answering only from the records tegami tells the user to publish (no real DNS). */
function resolverFrom(records: Rec[]) {
  return async (name: string, type: string) => {
    const hits = records.filter((r) => r.type === type && r.name === name.toLowerCase());
    if (hits.length) return hits.map((r) => [r.value]);
    const e = new Error(`no ${type} for ${name}`) as Error & { code: string };
    e.code = 'ENOTFOUND';
    throw e;
  };
}

const message = () => new MailComposer({ from: 'a@shop.example', to: 'b@example.net', subject: 's', text: 't' }).compile().build();
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** Signs with mailauth's own signer (independent of src/render/dkim.ts), one signature per key. */
async function mailauthSign(keys: SigningKeys): Promise<Buffer> {
  const raw = await message();
  const r = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    signatureData: [
      { signingDomain: keys.domain, selector: keys.rsa.selector, privateKey: pem(keys.rsa.privateKey), algorithm: 'rsa-sha256' },
      { signingDomain: keys.domain, selector: keys.ed25519.selector, privateKey: pem(keys.ed25519.privateKey), algorithm: 'ed25519-sha256' },
    ],
  } as never);
  expect(r.errors).toEqual([]);
  return Buffer.concat([Buffer.from(r.signatures), raw]);
}
const results = async (raw: Buffer, records: Rec[]) => (await verifyDkim(raw, resolverFrom(records))).map((x) => `${x.selector}:${x.status.result}`);

describe('DNS records and zone text (pure)', () => {
  const base: DnsInput = {
    domain: 'shop.example', returnPathDomain: 'bounces.shop.example', unsubscribeHost: null, mxHost: 'mx.tegami.test', publicHost: 'mail.tegami.test',
    spfInclude: '', sendingIps: '',
    keys: [
      { selector: 'tg202610r', algorithm: 'rsa-sha256', public_key: 'A'.repeat(392), status: 'retired' },
      { selector: 'tg202611r', algorithm: 'rsa-sha256', public_key: 'B'.repeat(392), status: 'retiring' },
      { selector: 'tg202611e', algorithm: 'ed25519-sha256', public_key: 'C'.repeat(44), status: 'active' },
    ],
  };
  it('publishes non-retired DKIM keys, SPF and MX for the return path, DMARC with explicit p= (R-AUTH-3/5/10/13, R-INFRA-6)', () => {
    const r = dnsRecords(base);
    expect(r.map((x) => `${x.type} ${x.name}`)).toEqual([
      'TXT tg202611r._domainkey.shop.example', 'TXT tg202611e._domainkey.shop.example', 'TXT bounces.shop.example', 'MX bounces.shop.example', 'TXT _dmarc.shop.example',
    ]);
    expect(r[0].value).toBe(`v=DKIM1; k=rsa; p=${'B'.repeat(392)}`);
    expect(r[1].value).toBe(`v=DKIM1; k=ed25519; p=${'C'.repeat(44)}`);
    expect(r[2]).toMatchObject({ value: 'v=spf1 a mx ~all', placeholder: true });
    expect(r[3].value).toBe('10 mx.tegami.test.');
    expect(r[3].placeholder).toBeUndefined();
    expect(dnsRecords({ ...base, mxHost: 'localhost' }).find((x) => x.type === 'MX')?.placeholder).toBe(true);
    expect(r[4].value).toBe('v=DMARC1; p=none; rua=mailto:dmarc@bounces.shop.example');
    expect(r[4].value).not.toMatch(/pct=|rf=|ri=/);
  });
  it('builds SPF from the configured IPs and include, and a CNAME for the unsubscribe host', () => {
    const r = dnsRecords({ ...base, sendingIps: '192.0.2.10, 2001:db8::25', spfInclude: 'spf.tegami.test', unsubscribeHost: 'u.shop.example' });
    const spf = r.find((x) => x.name === 'bounces.shop.example' && x.type === 'TXT')!;
    expect(spf.value).toBe('v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 include:spf.tegami.test -all');
    expect(spf.placeholder).toBeUndefined();
    expect(r.find((x) => x.type === 'CNAME')).toMatchObject({ name: 'u.shop.example', value: 'mail.tegami.test.' });
  });
  it('splits TXT values into quoted strings of at most 255 octets', () => {
    const zone = formatZone(dnsRecords(base));
    const line = zone.split('\n').find((l) => l.startsWith('tg202611r._domainkey.shop.example.\tIN\tTXT\t'))!;
    const parts = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    expect(parts.length).toBe(2);
    expect(parts.every((p) => p.length <= 255)).toBe(true);
    expect(parts.join('')).toBe(`v=DKIM1; k=rsa; p=${'B'.repeat(392)}`);
    expect(zone).toContain('bounces.shop.example.\tIN\tMX\t10 mx.tegami.test.');
    expect(zone).toMatch(/v=spf1 a mx ~all".*edit before publishing/);
  });
  it('knows mailbox-provider domains (R-AUTH-12) without refusing customers\' look-alike subdomains', () => {
    for (const d of ['gmail.com', 'yahoo.co.jp', 'mail.yahoo.co.jp', 'yahoo.com', 'hotmail.fr', 'live.jp', 'gmx.de', 'yandex.ru', 'web.de', 'i.softbank.jp', 'docomo.ne.jp', 'icloud.com', 'proton.me']) {
      expect(isFreemailDomain(d), d).toBe(true);
    }
    for (const d of ['shop.example', 'live.example.com', 'outlook.mybrand.co.jp', 'gmail.com.example', 'mygmail.com', 'softbank.jp']) {
      expect(isFreemailDomain(d), d).toBe(false);
    }
  });
});

describe.each(DIALECTS)('domains and DKIM keys on %s (issue 2 item 6)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); t.clock.set(Date.UTC(2026, 10, 23)); });
  afterAll(async () => { await t?.close(); });

  it('adds a domain with date-named RSA-2048 and Ed25519 selectors and keeps private keys encrypted', async () => {
    const r = await t.api('POST', '/v1/domains', { name: 'shop.example' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: 'shop.example', return_path_domain: 'bounces.shop.example', status: 'pending', test_mode: false });
    expect(r.json.keys.map((k: { selector: string; algorithm: string }) => [k.selector, k.algorithm])).toEqual([['tg202611r', 'rsa-sha256'], ['tg202611e', 'ed25519-sha256']]);
    expect(JSON.stringify(r.json)).not.toMatch(/private/i);
    const [rsa, ed] = r.json.keys;
    expect(createPublicKey({ key: Buffer.from(rsa.public_key, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(ed.public_key).toHaveLength(44);
    expect(Buffer.from(ed.public_key, 'base64')).toHaveLength(32);
    // Every column of both tables: no PEM header, no line of any PEM body.
    const everything = JSON.stringify(await t.db.db.selectFrom('dkim_keys').selectAll().execute()) + JSON.stringify(await t.db.db.selectFrom('domains').selectAll().execute());
    const rows = await t.db.db.selectFrom('dkim_keys').selectAll().execute();
    expect(rows).toHaveLength(2);
    expect(everything).not.toContain('PRIVATE KEY');
    for (const row of rows) {
      const body = decryptSecret(t.deps.masterKey, row.private_key_enc, row.id).split('\n').filter((l) => l && !l.startsWith('-----'));
      expect(body.length).toBeGreaterThan(0);
      for (const line of body) expect(everything).not.toContain(line);
      // The row id is bound as AAD: the ciphertext does not open under another row's id.
      expect(() => decryptSecret(t.deps.masterKey, row.private_key_enc, 'dk_other')).toThrow();
    }
  });

  it('fails with E_MASTER_KEY under a wrong master key', async () => {
    await expect(domainsCore({ ...t.deps, masterKey: randomBytes(32) }).getSigningKeys(t.accountId, 'shop.example')).rejects.toMatchObject({ code: 'E_MASTER_KEY' });
  });

  it('publishes DNS records that verify mail signed with getSigningKeys\' keys (both signatures pass)', async () => {
    const shown = (await t.api('GET', '/v1/domains/shop.example')).json;
    const dns = await t.api('GET', `/v1/domains/${shown.id}/dns`);
    expect(dns.status).toBe(200);
    const records = dns.json.records as Rec[];
    for (const k of shown.keys) expect(records.find((x) => x.name === `${k.selector}._domainkey.shop.example`)?.value).toMatch(new RegExp(`; p=${k.public_key.replace(/\+/g, '\\+')}$`));
    expect(dns.json.zone).toContain('tg202611r._domainkey.shop.example.\tIN\tTXT\t"v=DKIM1; k=rsa; p=');
    const keys = await t.core.domains.getSigningKeys(t.accountId, shown.id);
    expect(keys.rsa.privateKey).toBe((await t.core.domains.getSigningKeys(t.accountId, shown.id)).rsa.privateKey); // cached KeyObject
    expect(await results(await mailauthSign(keys), records)).toEqual(['tg202611r:pass', 'tg202611e:pass']);
    // A resolver that lacks the records does not pass: the check above can fail.
    expect(await results(await mailauthSign(keys), records.filter((x) => !x.name.includes('_domainkey')))).not.toContain('tg202611r:pass');
  });

  it('rotates keys: the old selectors stay published and verifying until retired', async () => {
    const oldSigned = await mailauthSign(await t.core.domains.getSigningKeys(t.accountId, 'shop.example'));
    const rot = await t.api('POST', '/v1/domains/shop.example/rotate-key');
    expect(rot.json.keys.map((k: { selector: string; status: string }) => `${k.selector}:${k.status}`)).toEqual([
      'tg202611r:retiring', 'tg202611e:retiring', 'tg202611br:active', 'tg202611be:active',
    ]);
    let records = (await t.api('GET', '/v1/domains/shop.example/dns')).json.records as Rec[];
    expect(await results(oldSigned, records)).toEqual(['tg202611r:pass', 'tg202611e:pass']);
    const fresh = await t.core.domains.getSigningKeys(t.accountId, 'shop.example');
    expect([fresh.rsa.selector, fresh.ed25519.selector]).toEqual(['tg202611br', 'tg202611be']);
    expect(await results(await mailauthSign(fresh), records)).toEqual(['tg202611br:pass', 'tg202611be:pass']);
    const active = rot.json.keys[2].id;
    expect((await t.api('POST', `/v1/domains/shop.example/keys/${active}/retire`)).json.error.code).toBe('E_STATE');
    expect((await t.api('POST', '/v1/domains/shop.example/keys/dk_nope/retire')).status).toBe(404);
    expect((await t.api('POST', `/v1/domains/shop.example/keys/${rot.json.keys[0].id}/retire`)).json.keys[0]).toMatchObject({ status: 'retired', retired_at: t.clock.now() });
    await t.api('POST', '/v1/domains/shop.example/keys/tg202611e/retire'); // by selector
    records = (await t.api('GET', '/v1/domains/shop.example/dns')).json.records;
    expect(records.filter((x) => x.name.includes('_domainkey')).map((x) => x.name.split('.')[0])).toEqual(['tg202611br', 'tg202611be']);
    expect(await results(oldSigned, records)).not.toContain('tg202611r:pass');
    // Never deleted: all four rows remain.
    expect(await t.db.db.selectFrom('dkim_keys').select('id').execute()).toHaveLength(4);
    // A second rotation in the month takes 'c'; next month starts again without a letter.
    expect((await t.api('POST', '/v1/domains/shop.example/rotate-key')).json.keys.slice(-2).map((k: { selector: string }) => k.selector)).toEqual(['tg202611cr', 'tg202611ce']);
    t.clock.set(Date.UTC(2026, 11, 1));
    expect((await t.api('POST', '/v1/domains/shop.example/rotate-key')).json.keys.slice(-2).map((k: { selector: string }) => k.selector)).toEqual(['tg202612r', 'tg202612e']);
  });

  it('refuses mailbox-provider domains, bad names, unaligned return paths and duplicates; stores IDN as A-label', async () => {
    for (const name of ['gmail.com', 'mail.yahoo.co.jp', 'hotmail.co.uk', 'docomo.ne.jp', 'GMX.net']) {
      const r = await t.api('POST', '/v1/domains', { name });
      expect([r.status, r.json.error.code], name).toEqual([422, 'E_FREEMAIL_DOMAIN']);
    }
    for (const name of ['bad..name', 'localhost', 'a b.example', 'x.example\r\nBcc: e@evil.test']) {
      expect((await t.api('POST', '/v1/domains', { name })).json.error.code, name).toBe('E_VALIDATION');
    }
    const unaligned = await t.api('POST', '/v1/domains', { name: 'other.example', return_path_domain: 'bounces.else.example' });
    expect([unaligned.status, unaligned.json.error.code]).toEqual([400, 'E_VALIDATION']);
    expect((await t.api('POST', '/v1/domains', { name: 'SHOP.example' })).json.error.code).toBe('E_CONFLICT');
    const before = await t.db.db.selectFrom('domains').select('id').execute();
    expect(before).toHaveLength(1); // nothing written by the refusals
    const idn = await t.api('POST', '/v1/domains', { name: 'メール.example', return_path_domain: 'rp.メール.example', test_mode: true });
    expect(idn.json).toMatchObject({ name: 'xn--4dkua4c.example', return_path_domain: 'rp.xn--4dkua4c.example', test_mode: true });
    expect((await t.api('GET', `/v1/domains/${encodeURIComponent('メール.example')}`)).json.id).toBe(idn.json.id);
    expect((await t.core.domains.findDomainForAddress(t.accountId, 'メール.EXAMPLE'))?.id).toBe(idn.json.id);
    expect(await t.core.domains.findDomainForAddress(t.accountId, 'nope.example')).toBeUndefined();
  });

  it('patches the unsubscribe host (published as a CNAME) and test mode', async () => {
    const p = await t.api('PATCH', '/v1/domains/shop.example', { unsubscribe_host: 'u.shop.example', test_mode: true });
    expect(p.json).toMatchObject({ unsubscribe_host: 'u.shop.example', test_mode: true });
    const cname = (await t.api('GET', '/v1/domains/shop.example/dns')).json.records.find((x: Rec) => x.type === 'CNAME');
    expect(cname).toMatchObject({ name: 'u.shop.example', value: 'mail.tegami.test.' });
    expect((await t.api('PATCH', '/v1/domains/shop.example', { unsubscribe_host: 'bad host' })).json.error.code).toBe('E_VALIDATION');
    expect((await t.api('PATCH', '/v1/domains/shop.example', { unsubscribe_host: null, test_mode: false })).json).toMatchObject({ unsubscribe_host: null, test_mode: false });
  });

  it('deletes a domain only when nothing is queued from it', async () => {
    const d = (await t.api('POST', '/v1/domains', { name: 'gone.example' })).json;
    const sent = await t.api('POST', '/v1/messages', { from: 'n@gone.example', to: ['a@example.net'], subject: 'x', text: 'y', category: 'transactional' });
    expect(sent.status).toBe(202);
    const refused = await t.api('DELETE', `/v1/domains/${d.id}`);
    expect([refused.status, refused.json.error.code]).toEqual([409, 'E_STATE']);
    await t.db.db.updateTable('messages').set({ status: 'sent' }).where('domain_id', '=', d.id).execute(); // as the worker would
    expect((await t.api('DELETE', `/v1/domains/${d.id}`)).status).toBe(204);
    expect((await t.api('GET', `/v1/domains/${d.id}`)).status).toBe(404);
    expect(await t.db.db.selectFrom('dkim_keys').select('id').where('domain_id', '=', d.id).execute()).toEqual([]);
  });

  it('needs admin scope to change domains; read scope may look', async () => {
    const k = await t.core.accounts.createApiKey(t.accountId, 'reader', ['read']);
    const h = { authorization: `Bearer ${k.key}` };
    expect((await t.api('GET', '/v1/domains', undefined, h)).status).toBe(200);
    expect((await t.api('GET', '/v1/domains/shop.example/dns', undefined, h)).status).toBe(200);
    expect((await t.api('POST', '/v1/domains', { name: 'reader.example' }, h)).status).toBe(403);
    expect((await t.api('POST', '/v1/domains/shop.example/rotate-key', undefined, h)).status).toBe(403);
  });

  it('answers 404 for another account\'s domain on every route and lists only its own', async () => {
    const other = await t.core.accounts.createAccount('Other');
    const k = await t.core.accounts.createApiKey(other.id, 'o', ['admin']);
    const h = { authorization: `Bearer ${k.key}` };
    const mine = (await t.api('GET', '/v1/domains/shop.example')).json;
    const keyId = mine.keys.find((x: { status: string }) => x.status === 'retiring').id;
    for (const ref of [mine.id, 'shop.example']) {
      for (const [m, u, body] of [['GET', `/v1/domains/${ref}`], ['GET', `/v1/domains/${ref}/dns`], ['POST', `/v1/domains/${ref}/rotate-key`],
        ['POST', `/v1/domains/${ref}/keys/${keyId}/retire`], ['PATCH', `/v1/domains/${ref}`, { test_mode: true }], ['DELETE', `/v1/domains/${ref}`]] as const) {
        expect((await t.api(m, u, body, h)).status, `${m} ${u}`).toBe(404);
      }
    }
    expect((await t.api('GET', '/v1/domains', undefined, h)).json.items).toEqual([]);
    await expect(t.core.domains.getSigningKeys(other.id, mine.id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(await t.core.domains.findDomainForAddress(other.id, 'shop.example')).toBeUndefined();
    // The same name may be another account's domain too; nothing of ours changed.
    expect((await t.api('POST', '/v1/domains', { name: 'shop.example' }, h)).status).toBe(201);
    expect((await t.api('GET', '/v1/domains/shop.example')).json).toMatchObject({ id: mine.id, test_mode: false });
    expect((await t.api('GET', '/v1/domains/shop.example')).json.keys.map((x: { status: string }) => x.status)).toEqual(mine.keys.map((x: { status: string }) => x.status));
  });
});
