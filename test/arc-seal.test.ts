import { generateKeyPairSync } from 'node:crypto';
import { authenticate } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealForwarded } from '../src/arc/forward.js';
import { arcSeal, arcSealResult } from '../src/arc/seal.js';
import { isTegamiError } from '../src/domain/errors.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { dkimResolverFromDb, headerValues } from './helpers/dkim.js';

const ORIGIN_IP = '192.0.2.10';
const TEGAMI_IP = '198.51.100.7';
const origin = generateKeyPairSync('rsa', { modulusLength: 2048 });
const originP = origin.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const relay = generateKeyPairSync('rsa', { modulusLength: 2048 });
const relayP = relay.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

const MESSAGE = Buffer.from([
  'From: Alice <alice@origin.example>', 'To: abuse@example.com', 'Subject: Complaint about your mail',
  'Date: Mon, 23 Nov 2026 09:00:00 +0000', 'Message-ID: <c1@origin.example>', 'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8', '', 'Please stop sending me mail.', '',
].join('\r\n'));

/** A DNS of test data only: the origin's DKIM, SPF and DMARC, a relay's key, and tegami's stored keys. */
function makeResolver(fromDb: (n: string, t: string) => Promise<unknown>) {
  const txt: Record<string, string> = {
    'o1._domainkey.origin.example': `v=DKIM1; k=rsa; p=${originP}`,
    'origin.example': `v=spf1 ip4:${ORIGIN_IP} -all`,
    '_dmarc.origin.example': 'v=DMARC1; p=reject',
    'r1._domainkey.relay.test': `v=DKIM1; k=rsa; p=${relayP}`,
  };
  return async (name: string, type: string) => {
    const v = type === 'TXT' ? txt[name.toLowerCase()] : undefined;
    if (v) return [[v]];
    return fromDb(name, type);
  };
}

async function signedAtOrigin(resolver: (n: string, t: string) => Promise<unknown>): Promise<Buffer> {
  const r = await dkimSign(MESSAGE, {
    canonicalization: 'relaxed/relaxed', resolver: resolver as never,
    signatureData: [{ signingDomain: 'origin.example', selector: 'o1', privateKey: origin.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }],
  } as never);
  return Buffer.concat([Buffer.from(r.signatures), MESSAGE]);
}

/** The next hop: a receiver connected to by tegami, evaluating with mailauth. */
async function atNextHop(raw: Buffer, resolver: (n: string, t: string) => Promise<unknown>) {
  return authenticate(raw, { ip: TEGAMI_IP, helo: 'mx.tegami.test', sender: 'fwd@example.com', mta: 'mx.receiver.test', resolver: resolver as never, disableBimi: true });
}

describe.each(DIALECTS)('ARC sealing of forwarded mail on %s (issue 10, R-AUTH-14, RFC 8617)', (dialect) => {
  let t: TestApp;
  let domainId: string;
  let resolver: (n: string, t: string) => Promise<unknown>;
  let original: Buffer;
  const session = { ip: ORIGIN_IP, helo: 'mail.origin.example', sender: 'alice@origin.example' };

  beforeAll(async () => {
    t = await createTestApp(dialect, { configure: (c) => { c.smtp.hostname = 'mx.tegami.test'; } });
    domainId = (await t.core.domains.addDomain(t.accountId, 'example.com')).id;
    await t.core.domains.addDomain(t.accountId, 'example.org');
    resolver = makeResolver(await dkimResolverFromDb(t.db.db));
    original = await signedAtOrigin(resolver);
  });
  afterAll(async () => { await t?.close(); });

  it('adds one ARC set (i=1) with the domain\'s stored RSA key, and the chain verifies at the next hop (cv=pass)', async () => {
    const r = await sealForwarded(t.deps, t.core.domains, { accountId: t.accountId, domainId, raw: original, resolver, session });
    expect(r).toMatchObject({ sealed: true, instance: 1, cv: 'none', errors: [] });
    const keys = await t.core.domains.getSigningKeys(t.accountId, domainId);
    const [aar] = headerValues(r.raw, 'arc-authentication-results');
    expect(aar).toMatch(/^i=1; mx\.tegami\.test;/);
    expect(aar).toMatch(/dkim=pass[^;]*header\.[di]=@?origin\.example/);
    expect(aar).toMatch(/spf=pass/);
    expect(aar).toMatch(/dmarc=pass/);
    const [ams] = headerValues(r.raw, 'arc-message-signature');
    expect(ams).toMatch(/\bi=1;/);
    expect(ams).toMatch(/\bd=example\.com;/);
    expect(ams).toMatch(new RegExp(`\\bs=${keys.rsa.selector};`));
    const [as] = headerValues(r.raw, 'arc-seal');
    expect(as).toMatch(/\bi=1;/);
    expect(as).toMatch(/\bcv=none;/);
    // the original bytes are kept below the new fields
    expect(r.raw.subarray(r.raw.length - original.length).equals(original)).toBe(true);

    const hop = await atNextHop(r.raw, resolver);
    expect(hop.arc && hop.arc.status.result).toBe('pass');
    expect(hop.arc && hop.arc.i).toBe(1);
    // SPF fails at the next hop (tegami's IP is not the origin's): ARC is what carries the first verdict
    expect(hop.spf && (hop.spf as { status: { result: string } }).status.result).not.toBe('pass');
  });

  it('a tampered body, a tampered ARC-Authentication-Results or a key the DNS does not serve fails the chain', async () => {
    const sealed = await arcSeal(original, { domain: 'example.com', ...(await keyOf(t, domainId)), authservId: 'mx.tegami.test', resolver, ...session });
    const tamperedBody = Buffer.from(sealed.toString('utf8').replace('Please stop', 'Please keep'));
    expect((await atNextHop(tamperedBody, resolver)).arc).toMatchObject({ status: { result: 'fail' } });
    const tamperedAar = Buffer.from(sealed.toString('utf8').replace(/spf=pass/, 'spf=none'));
    expect(tamperedAar.equals(sealed)).toBe(false);
    expect((await atNextHop(tamperedAar, resolver)).arc).toMatchObject({ status: { result: 'fail' } });
    const noKeys = async (name: string, type: string) => {
      if (name.endsWith('._domainkey.example.com')) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
      return resolver(name, type);
    };
    expect((await atNextHop(sealed, noKeys)).arc).toMatchObject({ status: { result: 'fail' } });
  });

  it('sealing an already sealed message adds i=2 and the whole chain verifies; a failed chain is sealed cv=fail once, then refused', async () => {
    const first = await sealForwarded(t.deps, t.core.domains, { accountId: t.accountId, domainId, raw: original, resolver, session });
    const second = await arcSealResult(first.raw, { domain: 'relay.test', selector: 'r1', privateKey: relay.privateKey, authservId: 'mx.relay.test', resolver, ip: TEGAMI_IP, helo: 'mx.tegami.test' });
    expect(second).toMatchObject({ sealed: true, instance: 2, cv: 'pass' });
    expect(headerValues(second.raw, 'arc-seal').map((v) => /\bi=(\d)/.exec(v)![1]).sort()).toEqual(['1', '2']);
    const third = await atNextHop(second.raw, resolver);
    expect(third.arc).toMatchObject({ status: { result: 'pass' }, i: 2 });
    // and tegami can be the second hop too, with another domain of the account
    const again = await sealForwarded(t.deps, t.core.domains, { accountId: t.accountId, domainId: 'example.org', raw: first.raw, resolver, session: { ip: TEGAMI_IP } });
    expect(again).toMatchObject({ sealed: true, instance: 2, cv: 'pass' });
    expect((await atNextHop(again.raw, resolver)).arc).toMatchObject({ status: { result: 'pass' }, i: 2 });

    const broken = Buffer.from(first.raw.toString('utf8').replace('Please stop', 'Please keep'));
    const witness = await arcSealResult(broken, { domain: 'relay.test', selector: 'r1', privateKey: relay.privateKey, authservId: 'mx.relay.test', resolver });
    expect(witness).toMatchObject({ sealed: true, instance: 2, cv: 'fail' });
    expect((await atNextHop(witness.raw, resolver)).arc).toMatchObject({ status: { result: 'fail' } });
    const err = await arcSeal(witness.raw, { domain: 'relay.test', selector: 'r1', privateKey: relay.privateKey, authservId: 'mx.relay.test', resolver }).catch((e) => e);
    expect(isTegamiError(err) && err.code).toBe('E_ARC_SEAL');
  });
});

async function keyOf(t: TestApp, domainId: string) {
  const k = await t.core.domains.getSigningKeys(t.accountId, domainId);
  return { selector: k.rsa.selector, privateKey: k.rsa.privateKey };
}
