import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS, itWhere } from './helpers/dialects.js';
import { dkimResolverFromDb } from './helpers/dkim.js';
import { seedList } from './helpers/fixtures.js';

const run = promisify(execFile);
type F = { id: string; rule: string; severity: string; message: string };
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
/** The raw message without its DKIM-Signature fields (folded lines included). */
const unsigned = (raw: Buffer) => Buffer.from(raw.toString('latin1').replace(/^DKIM-Signature:.*\r\n(?:[ \t].*\r\n)*/gim, ''), 'latin1');
async function sign(raw: Buffer, domain: string, selector: string, key: KeyObject, headerList?: string): Promise<Buffer> {
  const r = await dkimSign(raw, { canonicalization: 'relaxed/relaxed', ...(headerList ? { headerList } : {}), signatureData: [{ signingDomain: domain, selector, privateKey: pem(key), algorithm: 'rsa-sha256' }] } as never);
  expect(r.errors).toEqual([]);
  return Buffer.concat([Buffer.from(r.signatures), raw]);
}

describe.each(DIALECTS)('tegami lint on %s (issue 6 item 3)', (dialect) => {
  let t: TestApp;
  let good: Buffer;
  let resolver: Awaited<ReturnType<typeof dkimResolverFromDb>>;
  const lint = (raw: Buffer, opts: { key?: string } = {}) => t.core.compliance.lint(raw, opts);
  const errors = (r: { findings: F[] }) => r.findings.filter((f) => f.severity === 'error').map((f) => `${f.rule} ${f.id}`);

  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'] });
    await t.core.domains.addDomain(t.accountId, 'example.com');
    const list = await seedList(t.db.db, t.accountId, 'Weekly news', []);
    const r = await t.api('POST', '/v1/messages', { from: '"Example News" <news@example.com>', to: ['sato@example.net'], subject: 'Weekly', html: '<p>Hello {{ name }}</p>', category: 'subscription', list_id: list.id });
    expect(r.status).toBe(202);
    await t.sending!.drain();
    good = Buffer.from((await t.db.db.selectFrom('captured').select('raw').executeTakeFirstOrThrow()).raw as Uint8Array);
    resolver = await dkimResolverFromDb(t.db.db);
    t.core.compliance.useResolver(resolver);
  });
  afterAll(async () => { await t?.close(); });

  it('passes a real tegami-built subscription message with no error finding', async () => {
    const r = await lint(good);
    expect(errors(r)).toEqual([]);
    expect(r).toMatchObject({ ok: true, category: 'subscription', errors: 0 });
    expect(r.dkim).toHaveLength(2);
    expect(r.findings.filter((f) => f.severity === 'pass').map((f) => f.id).sort()).toEqual(['dkim.ok', 'fmt.ok', 'unsub.ok']);
    // The same through the API, as JSON and as raw bytes.
    const j = await t.api('POST', '/v1/lint', { message: good.toString('base64'), encoding: 'base64' });
    expect(j.json).toMatchObject({ ok: true, errors: 0 });
    const viaRaw = await t.http!.inject({ method: 'POST', url: '/v1/lint/raw', payload: good, headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'message/rfc822' } });
    expect(viaRaw.json()).toMatchObject({ ok: true, errors: 0 });
  });

  it('fails a tampered List-Unsubscribe: the signature no longer verifies, so one-click is not offered (R-AUTH-8)', async () => {
    const s = good.toString('latin1');
    const m = /List-Unsubscribe: <https:\/\/[^>]*?([A-Za-z0-9])>/.exec(s)!;
    const tampered = Buffer.from(s.replace(m[0], m[0].slice(0, -2) + (m[1] === 'A' ? 'B' : 'A') + '>'), 'latin1');
    const e = errors(await lint(tampered));
    expect(e).toContain('R-AUTH-2 dkim.fail');
    expect(e).toContain('R-AUTH-8 dkim.list_headers_unverified');
    expect(e).toContain('R-AUTH-4 dmarc.unaligned');
  });

  it('fails a signature whose h= lacks List-Unsubscribe-Post (R-AUTH-8)', async () => {
    const keys = await t.core.domains.getSigningKeys(t.accountId, 'example.com');
    const resigned = await sign(unsigned(good), 'example.com', keys.rsa.selector, keys.rsa.privateKey, 'from:from:to:subject:date:message-id:list-unsubscribe:list-id');
    const r = await lint(resigned);
    expect((r.dkim as Array<{ result: string }>)[0].result).toBe('pass');
    expect(errors(r)).toEqual(['R-AUTH-8 dkim.list_headers_unsigned']);
  });

  it('fails a passing signature of another organisational domain: not aligned with From (R-AUTH-4)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signed = await sign(unsigned(good), 'esp-mailer.net', 'esp1', privateKey,
      'from:from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post:list-id');
    const p = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
    const r = await t.core.compliance.lint(signed, { key: `esp1:${p}` });
    expect((r.dkim as Array<{ d: string; result: string; aligned: boolean }>)[0]).toMatchObject({ d: 'esp-mailer.net', result: 'pass', aligned: false });
    expect(errors(r)).toEqual(['R-AUTH-4 dmarc.unaligned']);
    // An extra (ESP) signature without the list headers is only a warning while tegami's aligned ones cover them.
    const k = (await t.api('GET', '/v1/domains/example.com')).json.keys as Array<{ selector: string; public_key: string }>;
    const both = await sign(good, 'esp-mailer.net', 'esp1', privateKey, 'from:from:to:subject:date:message-id');
    const r2 = await t.core.compliance.lint(both, { key: [...k.map((x) => `${x.selector}:${x.public_key}`), `esp1:${p}`].join(',') });
    expect(errors(r2)).toEqual([]);
    expect(r2.findings.filter((f) => f.id === 'dkim.list_headers_unsigned').map((f) => f.severity)).toEqual(['warning']);
  });

  it('fails two From fields (R-FMT-1) and a 1,200-character line (R-FMT-5)', async () => {
    const twoFrom = Buffer.concat([Buffer.from('From: "Support" <support@example.org>\r\n'), good]);
    expect(errors(await lint(twoFrom))).toContain('R-FMT-1 fmt.from_count');
    expect(errors(await lint(twoFrom))).toContain('R-AUTH-2 dkim.fail'); // From is over-signed (R-AUTH-6)
    const s = good.toString('latin1');
    const at = s.indexOf('\r\n\r\n') + 4;
    const long = Buffer.from(s.slice(0, at) + 'x'.repeat(1200) + '\r\n' + s.slice(at), 'latin1');
    const r = await lint(long);
    const f = r.findings.find((x) => x.id === 'fmt.line_length')!;
    expect(f).toMatchObject({ rule: 'R-FMT-5', severity: 'error' });
    expect(f.message).toMatch(/1200 octets/);
    expect(r.ok).toBe(false);
  });

  it('flags encoded-words in structured fields (R-FMT-6), emoji display names (R-FMT-8) and fake replies', async () => {
    const s = good.toString('latin1');
    const enc = Buffer.from(s.replace(/^Message-ID: <([^>]*)>/im, 'Message-ID: <=?utf-8?B?eA==?=$1>'), 'latin1');
    expect(errors(await lint(enc))).toContain('R-FMT-6 fmt.encoded_word');
    const emoji = Buffer.from(s.replace(/^From: [^\r]*/im, 'From: =?utf-8?B?' + Buffer.from('News 🎉').toString('base64') + '?= <news@example.com>'), 'latin1');
    expect((await lint(emoji)).findings.find((x) => x.id === 'fmt.display_name_emoji')).toMatchObject({ rule: 'R-FMT-8', severity: 'warning' });
    const re = Buffer.from(s.replace(/^Subject: [^\r]*/im, 'Subject: Re: your order'), 'latin1');
    expect(errors(await lint(re))).toContain('R-FMT-8 fmt.fake_reply');
  });

  it('checks the one-click headers and list id byte by byte (R-UNSUB-1, R-UNSUB-13, R-LIST-2)', async () => {
    const s = good.toString('latin1');
    const bad = Buffer.from(s.replace('List-Unsubscribe-Post: List-Unsubscribe=One-Click', 'List-Unsubscribe-Post: List-Unsubscribe=one-click')
      .replace(/^List-Id: [^\r]*/im, 'List-Id: weekly news'), 'latin1');
    const e = errors(await lint(bad));
    expect(e).toEqual(expect.arrayContaining(['R-UNSUB-1 unsub.post_value', 'R-LIST-2 list.syntax']));
    const noBrackets = Buffer.from(s.replace(/List-Unsubscribe: </, 'List-Unsubscribe: '), 'latin1');
    expect(errors(await lint(noBrackets))).toContain('R-UNSUB-13 unsub.syntax');
  });

  it('verifies DKIM against given public keys instead of DNS, and rejects a wrong key', async () => {
    const k = (await t.api('GET', '/v1/domains/example.com')).json.keys as Array<{ selector: string; public_key: string }>;
    const given = k.map((x) => `${x.selector}:${x.public_key}`).join(',');
    t.core.compliance.useResolver(async () => { throw Object.assign(new Error('no DNS'), { code: 'ENOTFOUND' }); });
    try {
      expect((await lint(good, { key: given })).ok).toBe(true);
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const wrong = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
      expect(errors(await lint(good, { key: `${k[0].selector}:${wrong},${k[1].selector}:${k[1].public_key}` }))).toContain('R-AUTH-2 dkim.fail');
      await expect(lint(good, { key: 'not a key!' })).rejects.toMatchObject({ code: 'E_VALIDATION' });
      // Over the API a key is never a file path (no probing of the server's files).
      await expect(lint(good, { key: '/etc/passwd' })).rejects.toMatchObject({ code: 'E_VALIDATION' });
      await expect(lint(Buffer.from('hello'))).rejects.toMatchObject({ code: 'E_VALIDATION' });
    } finally {
      t.core.compliance.useResolver(resolver);
    }
  });

  itWhere(dialect === 'sqlite')('tegami lint FILE --json --key exits 0 on the good message and 1 on a broken one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tegami-lint-'));
    try {
      const k = (await t.api('GET', '/v1/domains/example.com')).json.keys as Array<{ selector: string; public_key: string }>;
      // The CLI also reads a key from a file.
      writeFileSync(join(dir, 'rsa.key'), k[0].public_key);
      const key = [`${k[0].selector}:${join(dir, 'rsa.key')}`, `${k[1].selector}:${k[1].public_key}`].join(',');
      writeFileSync(join(dir, 'good.eml'), good);
      writeFileSync(join(dir, 'bad.eml'), Buffer.concat([Buffer.from('From: other@example.org\r\n'), good]));
      const cli = (file: string) => run('npx', ['tsx', 'src/cli/main.ts', 'lint', join(dir, file), '--json', '--key', key], { cwd: process.cwd(), timeout: 60_000 })
        .then((r) => ({ code: 0, out: r.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
      const ok = await cli('good.eml');
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out)).toMatchObject({ ok: true, errors: 0 });
      const bad = await cli('bad.eml');
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.out).findings.filter((f: F) => f.severity === 'error').map((f: F) => f.rule)).toContain('R-FMT-1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
