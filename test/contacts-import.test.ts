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
    expect(s.accepted).toBe(0);
    expect(s.rejected[0].reason).toMatch(/not valid text|invalid/);
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
    const s = await t.core.contacts.import(t.accountId, list, Readable.from(gen()));
    expect(s).toMatchObject({ total: N, accepted: N, created: N, rejected_count: 0 });
    expect((await t.core.lists.show(t.accountId, list)).counts.subscribed).toBe(N);
  }, 240_000);
});
