import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

const csv = (s: string | Buffer) => Readable.from([typeof s === 'string' ? Buffer.from(s) : s]);

describe.each(DIALECTS)('contacts CSV import on %s (issue 2 item 7)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => { await t?.close(); });
  const newList = async (name: string) => (await t.core.lists.create(t.accountId, { name })).id;
  const count = async (table: 'contacts' | 'subscriptions') =>
    Number((await t.db.db.selectFrom(table).select((e) => e.fn.countAll().as('n')).where('account_id', '=', t.accountId).executeTakeFirstOrThrow()).n);

  it('gives a per-row reason for invalid, duplicate and unreadable rows; handles BOM and CRLF', async () => {
    const list = await newList('mixed');
    const body = '\uFEFFEmail,Name,City\r\n'
      + 'a1@example.jp,Aiko,Tokyo\r\n'
      + 'not-an-address,Bad,Osaka\r\n'
      + 'A1@Example.JP,Dup,Kyoto\r\n'
      + 'b1@example.jp,"Bob ""the"" builder",Nara\r\n'
      + 'c1@example.jp,Too,Many,Columns\r\n'
      + 'd1@exa mple.jp,Space,Kobe\r\n'
      + 'e1@example.jp,"unterminated,Sapporo\r\n';
    const s = await t.core.contacts.import(t.accountId, list, csv(body));
    expect(s.encoding).toBe('utf-8');
    expect(s.accepted).toBe(2);
    const reasons = Object.fromEntries(s.rejected.map((r) => [r.line, r.reason]));
    expect(reasons[3]).toBe('invalid address syntax');
    expect(reasons[4]).toBe('duplicate of an earlier row in the file');
    expect(reasons[6]).toMatch(/unreadable CSV row: CSV_RECORD_INCONSISTENT_COLUMNS/);
    expect(reasons[7]).toMatch(/invalid/);
    expect(s.rejected.some((r) => /unreadable CSV row/.test(r.reason) && r.line >= 8)).toBe(true);
    const b = await t.api('GET', '/v1/contacts?q=b1@');
    expect(b.json.items[0].attributes).toEqual({ name: 'Bob "the" builder', city: 'Nara' });
  });

  it('reads LF files and Shift_JIS (CP932) bytes, storing Japanese attributes correctly', async () => {
    const list = await newList('sjis');
    const head = Buffer.from('email,name\n');
    const row = Buffer.concat([Buffer.from('tanaka@example.jp,'), Buffer.from([0x93, 0x63, 0x92, 0x86]), Buffer.from('\n')]);
    const s = await t.core.contacts.import(t.accountId, list, csv(Buffer.concat([head, row])));
    expect(s).toMatchObject({ encoding: 'shift_jis', accepted: 1, rejected_count: 0 });
    const c = await t.api('GET', '/v1/contacts?q=tanaka@');
    expect(c.json.items[0].attributes.name).toBe('田中');
  });

  it('refuses a file without an address column before writing anything', async () => {
    const list = await newList('nocol');
    const before = await count('contacts');
    await expect(t.core.contacts.import(t.accountId, list, csv('name,city\nA,B\n'))).rejects.toMatchObject({ code: 'E_CSV' });
    expect(await count('contacts')).toBe(before);
  });

  it('flags 8-bit garbage that is neither UTF-8 nor Shift_JIS text', async () => {
    const list = await newList('garbage');
    const s = await t.core.contacts.import(t.accountId, list, csv(Buffer.concat([Buffer.from('email\n'), Buffer.from([0xff, 0xfe, 0x40, 0x78, 0x2e, 0x6a, 0x70, 0x0a])])));
    expect(s).toMatchObject({ encoding: 'shift_jis', accepted: 0, rejected_count: 1 });
    expect(s.rejected[0]).toMatchObject({ line: 2, reason: 'the row contains bytes that are not valid shift_jis text' });
  });

  it('is idempotent and never re-subscribes an unsubscribed contact (R-UNSUB-12)', async () => {
    const list = await newList('idem');
    const body = 'email,plan\nx1@example.jp,gold\nx2@example.jp,silver\n';
    const first = await t.core.contacts.import(t.accountId, list, csv(body));
    expect(first).toMatchObject({ created: 2, accepted: 2 });
    const subsBefore = await count('subscriptions');
    const x1 = (await t.api('GET', '/v1/contacts?q=x1@')).json.items[0];
    await t.core.contacts.setSubscription(t.accountId, x1.id, list, 'unsubscribed');
    await t.core.suppressions.add(t.accountId, [{ address: 'x2@example.jp', scope: 'account', reason: 'unsubscribe' }], { source: 'test' });
    const again = await t.core.contacts.import(t.accountId, list, csv(body));
    expect(again).toMatchObject({ created: 0, unchanged: 2, accepted: 2, kept_unsubscribed: 1 });
    expect(await count('subscriptions')).toBe(subsBefore);
    const view = await t.core.contacts.get(t.accountId, x1.id);
    expect(view.subscriptions[0].status).toBe('unsubscribed');
    expect((await t.core.suppressions.get(t.accountId, 'x2@example.jp')).entries).toHaveLength(1);
    // an API upsert cannot either; only fresh confirmed opt-in can
    await expect(t.core.contacts.setSubscription(t.accountId, x1.id, list, 'subscribed')).rejects.toMatchObject({ code: 'E_STATE' });
  });

  it('imports through the HTTP API with a text/csv body', async () => {
    const list = await newList('http');
    const r = await t.api('POST', `/v1/lists/${list}/import`, 'email\nh1@example.jp\nh2@example.jp\nbad\n', { 'content-type': 'text/csv' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ accepted: 2, rejected_count: 1 });
  });

  it('reports a duplicate anywhere in the file, not only inside one 1,000-row batch', async () => {
    const list = await newList('dups');
    let body = 'email\n';
    for (let i = 0; i < 2500; i++) body += i === 2100 ? 'First0@Dup.Example\n' : `first${i}@dup.example\n`;
    const s = await t.core.contacts.import(t.accountId, list, csv(body));
    expect(s).toMatchObject({ total: 2500, accepted: 2499, created: 2499, rejected_count: 1 });
    expect(s.rejected[0]).toEqual({ line: 2102, reason: 'duplicate of an earlier row in the file', value: 'First0@Dup.Example' });
  });

  it('stores consent columns as evidence (R-CONSENT-1) and rejects rows whose evidence is not usable', async () => {
    const list = await newList('consent');
    const body = 'email,consent_source,consent_at,consent_ip,confirmed_at,plan\n'
      + 'ok@consent.example,web-form,2026-01-02T03:04:05Z,203.0.113.9,1767323100000,gold\n'
      + 'badip@consent.example,web-form,2026-01-02T03:04:05Z,999.1.1.1,,x\n'
      + 'baddate@consent.example,web-form,yesterday,,,x\n'
      + 'plain@consent.example,,,,,\n';
    const s = await t.core.contacts.import(t.accountId, list, csv(body), { consentSource: 'import:test' });
    expect(s.accepted).toBe(2);
    expect(s.rejected.map((r) => [r.line, r.reason])).toEqual([[3, 'consent_ip is not an IP address'], [4, 'consent_at is not a date (ISO 8601 or epoch milliseconds)']]);
    const ok = (await t.api('GET', '/v1/contacts?q=ok@consent')).json.items[0];
    expect(ok.attributes).toEqual({ plan: 'gold' });
    expect((await t.core.contacts.get(t.accountId, ok.id)).subscriptions[0]).toMatchObject({
      status: 'subscribed', consent_source: 'web-form', consent_at: Date.parse('2026-01-02T03:04:05Z'), consent_ip: '203.0.113.9', confirmed_at: 1767323100000,
    });
    const plain = (await t.api('GET', '/v1/contacts?q=plain@consent')).json.items[0];
    expect((await t.core.contacts.get(t.accountId, plain.id)).subscriptions[0]).toMatchObject({ consent_source: 'import:test', consent_at: t.clock.now(), confirmed_at: null });
  });

  it('reads a Shift_JIS header (メールアドレス) and rejects a UTF-8 row with invalid bytes after the first 64 KB', async () => {
    const list = await newList('sjis-header');
    // メールアドレス,名前 in Shift_JIS, then 田中
    const header = Buffer.from([0x83, 0x81, 0x81, 0x5b, 0x83, 0x8b, 0x83, 0x41, 0x83, 0x68, 0x83, 0x8c, 0x83, 0x58, 0x2c, 0x96, 0xbc, 0x91, 0x4f, 0x0a]);
    const s = await t.core.contacts.import(t.accountId, list, csv(Buffer.concat([header, Buffer.from('sato@sjis.example,'), Buffer.from([0x93, 0x63, 0x92, 0x86, 0x0a])])));
    expect(s).toMatchObject({ encoding: 'shift_jis', accepted: 1 });
    expect((await t.api('GET', '/v1/contacts?q=sato@sjis')).json.items[0].attributes).toEqual({ 名前: '田中' });
    const late = await newList('late-garbage');
    const rows = ['email,note\n'];
    for (let i = 0; i < 3000; i++) rows.push(`late${i}@utf8.example,日本語のメモ ${i}\n`);
    const bad = Buffer.concat([Buffer.from('broken@utf8.example,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const r = await t.core.contacts.import(t.accountId, late, csv(Buffer.concat([Buffer.from(rows.join('')), bad])));
    expect(r).toMatchObject({ encoding: 'utf-8', accepted: 3000, rejected_count: 1 });
    expect(r.rejected[0]).toMatchObject({ line: 3002, reason: 'the row contains bytes that are not valid utf-8 text' });
  });

  it('reports the lines a CSV parser gives up on after a quoting error instead of dropping them silently', async () => {
    const list = await newList('unclosed');
    const body = 'email,name\na@q.example,A\nb@q.example,"x" y\nc@q.example,C\nd@q.example,D\n\n';
    const s = await t.core.contacts.import(t.accountId, list, csv(body));
    expect(s.accepted).toBe(1);
    expect(s.rejected.map((r) => r.line)).toEqual([3, 4]);
    expect(s.rejected[0].reason).toMatch(/^unreadable CSV row: CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE/);
    expect(s.rejected[1].reason).toMatch(/^lines 4-5 were not read/);
  });

  it('refuses an empty file and a header with a duplicate column (E_CSV), writing nothing', async () => {
    const list = await newList('empty');
    const before = await count('contacts');
    await expect(t.core.contacts.import(t.accountId, list, csv(''))).rejects.toMatchObject({ code: 'E_CSV' });
    await expect(t.core.contacts.import(t.accountId, list, csv('email,Email\na@x.example,b@x.example\n'))).rejects.toMatchObject({ code: 'E_CSV' });
    expect(await count('contacts')).toBe(before);
  });

  it('HTTP import: another account\'s list is 404 and a read-only key is 403, with nothing written', async () => {
    const list = await newList('http-guard');
    const acc = await t.core.accounts.createAccount('Other importer');
    const other = { authorization: `Bearer ${(await t.core.accounts.createApiKey(acc.id, 'o', ['admin'])).key}`, 'content-type': 'text/csv' };
    const reader = { authorization: `Bearer ${(await t.core.accounts.createApiKey(t.accountId, 'r', ['read'])).key}`, 'content-type': 'text/csv' };
    const before = await count('contacts');
    expect((await t.api('POST', `/v1/lists/${list}/import`, 'email\nz1@guard.example\n', other)).status).toBe(404);
    expect((await t.api('POST', `/v1/lists/${list}/import`, 'email\nz1@guard.example\n', reader)).status).toBe(403);
    const missing = await t.api('POST', `/v1/lists/${list}/import`, 'name\nx\n', { 'content-type': 'text/csv' });
    expect(missing.json.error.code).toBe('E_CSV');
    expect(await count('contacts')).toBe(before);
  });

  it('imports 100,000 rows with the right counts', async () => {
    const list = await newList('big');
    const N = 100_000;
    async function* gen() {
      yield 'email,n\n';
      let chunk = '';
      for (let i = 0; i < N; i++) {
        chunk += `user${i}@bulk.example.jp,${i}\n`;
        if (chunk.length > 64_000) { yield chunk; chunk = ''; }
      }
      yield chunk;
    }
    const progress: number[] = [];
    const s = await t.core.contacts.import(t.accountId, list, Readable.from(gen()), { onProgress: (n) => progress.push(n) });
    expect(s).toMatchObject({ total: N, accepted: N, created: N, rejected_count: 0 });
    expect((await t.core.lists.show(t.accountId, list)).counts.subscribed).toBe(N);
    expect(progress.length).toBe(N / 1000);
    expect(progress[progress.length - 1]).toBe(N);
    const page = await t.core.contacts.pageSubscribers(t.accountId, [list], 0, 3);
    expect(page.map((r) => r.address)).toEqual(['user0@bulk.example.jp', 'user1@bulk.example.jp', 'user2@bulk.example.jp']);
  }, 240_000);
});
