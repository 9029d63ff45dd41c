import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNED_HEADERS, signMessage, type SigningKeys } from '../src/render/dkim.js';
import { composeMessage } from '../src/render/compose.js';
import { mailauthBody, mailauthHeader, mailauthTools } from '../src/render/mailauth-parts.js';
import { verifyDkim } from './helpers/dkim.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;
const keys: SigningKeys = { domain: 'sign.example', rsa: { selector: 'r1', privateKey: rsa }, ed25519: { selector: 'e1', privateKey: ed } };
const pub = (k: typeof rsa) => createPublicKey(k).export({ type: 'spki', format: 'der' }).toString('base64');
const resolver = async (name: string) => {
  if (name === 'r1._domainkey.sign.example') return [[`v=DKIM1; k=rsa; p=${pub(rsa)}`]];
  if (name === 'e1._domainkey.sign.example') return [[`v=DKIM1; k=ed25519; p=${pub(ed).slice(-44)}`]];
  throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
};

/**
 * The signer as it was before the shared canonicalization and the body-hash fast path: mailauth's
 * body hasher and generateCanonicalizedHeader once per algorithm. The new signer must give the
 * same bytes (RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic).
 */
function referenceSign(raw: Buffer, k: SigningKeys, now: number): Buffer {
  const i = raw.indexOf('\r\n\r\n');
  const head = i < 0 ? raw : raw.subarray(0, i + 2);
  const body = i < 0 ? Buffer.alloc(0) : raw.subarray(i + 4);
  const hasher = mailauthBody.dkimBody('relaxed/relaxed', 'sha256', false);
  hasher.update(body);
  const bodyHash = hasher.digest('base64');
  const sel = mailauthTools.getSigningHeaderLines(mailauthTools.parseHeaders(head).parsed, SIGNED_HEADERS.join(':'), false);
  const lines = { keys: [...sel.headers.map((h) => h.casedKey), ...SIGNED_HEADERS].join(': '), headers: sel.headers };
  const out: string[] = [];
  for (const [algorithm, key] of [['rsa-sha256', k.rsa], ['ed25519-sha256', k.ed25519]] as const) {
    const { canonicalizedHeader, dkimHeaderOpts } = mailauthHeader.generateCanonicalizedHeader('DKIM', lines, {
      signingDomain: k.domain, selector: key.selector, algorithm, canonicalization: 'relaxed/relaxed', bodyHash, timestamp: Math.floor(now / 1000), expiration: false,
    });
    const b = algorithm === 'rsa-sha256'
      ? cryptoSign('sha256', canonicalizedHeader, key.privateKey)
      : cryptoSign(null, createHash('sha256').update(canonicalizedHeader).digest(), key.privateKey);
    dkimHeaderOpts.b = b.toString('base64');
    out.push(mailauthTools.formatSignatureHeaderLine('DKIM', dkimHeaderOpts, true));
  }
  return Buffer.concat([Buffer.from(out.join('\r\n') + '\r\n'), raw]);
}

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
const PIECES = ['Hello', ' ', '  ', '\t', '\n', '\r\n', '\r', 'äöü', '日本語', '=', 'x'.repeat(80), '<p>', '&amp;', ' end ', '\r\n\r\n'];
const text = (r: () => number, n: number) => Array.from({ length: Math.floor(r() * n) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('');

describe('DKIM signer (R-AUTH-5..8, R-AUTH-13): one canonicalization for both signatures', () => {
  it('gives the same bytes as per-algorithm mailauth canonicalization for composed messages, and they verify', async () => {
    const r = rng(5);
    for (let i = 0; i < 60; i++) {
      const raw = await composeMessage({
        from: { name: 'News 通信', address: 'news@sign.example' }, to: [`u${i}@rcpt.example`], subject: text(r, 5).replace(/[\r\n]/g, '') || 's',
        html: i % 3 ? `<html><body>${text(r, 50)}</body></html>` : null, text: text(r, 50) || 'x', messageId: `<m${i}@sign.example>`,
        date: new Date(1_700_000_000_000 + i * 1000), category: 'subscription', list: { name: 'L', label: 'l1', namespace: 'sign.example' },
        unsubscribe: { url: `https://sign.example/u/t${i}`, mailto: `mailto:u+t${i}@b.sign.example?subject=unsubscribe` }, feedbackId: 'c:a:subscription:tegami', headers: {},
      } as never);
      const now = 1_700_000_000_000 + i * 1000;
      const got = signMessage(raw, keys, { now });
      expect(got.equals(referenceSign(raw, keys, now))).toBe(true);
      if (i < 10) {
        const res = await verifyDkim(got, resolver as never);
        expect(res.map((x) => `${x.algo}:${x.status.result}`)).toEqual(['rsa-sha256:pass', 'ed25519-sha256:pass']);
      }
    }
  });

  it('gives the same bytes for raw (relayed-style) messages whose bodies need relaxed rewriting, and odd header sets', async () => {
    const r = rng(9);
    const heads = [
      'From: a@sign.example\r\nTo: b@x.example\r\nSubject: hi\r\n',
      'From:  "A  B"  <a@sign.example>\r\nsubject:\tfolded\r\n  over\tlines \r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nX-Other: 1\r\nTO: c@x.example\r\n',
      'From: a@sign.example\r\nFrom: second@sign.example\r\nContent-Type: text/plain; charset=utf-8\r\n',
      'X-Only: no signed header\r\n',
    ];
    for (let i = 0; i < 80; i++) {
      const raw = Buffer.concat([Buffer.from(heads[i % heads.length]), Buffer.from('\r\n'), Buffer.from(text(r, 40)), i % 5 ? Buffer.alloc(0) : Buffer.from([0xff, 0x20, 0x0d, 0x0a])]);
      const got = signMessage(raw, keys, { now: 1_700_000_000_000 });
      expect(got.equals(referenceSign(raw, keys, 1_700_000_000_000)), raw.toString('latin1')).toBe(true);
    }
    // A message with no header/body separator at all.
    const noBody = Buffer.from('From: a@sign.example\r\nSubject: x\r\n');
    expect(signMessage(noBody, keys, { now: 0 }).equals(referenceSign(noBody, keys, 0))).toBe(true);
  });
});
