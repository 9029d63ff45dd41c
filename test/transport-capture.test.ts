import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from '../src/transport/create-transport.js';
import type { Transport } from '../src/transport/types.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

/** A message with 8-bit bytes that are not valid UTF-8 (0xff, 0xfe) so any re-encoding on the way shows. */
function rawMessage(to: string, subject: string): Buffer {
  return Buffer.concat([
    Buffer.from(`From: "Shop" <news@example.com>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.com>\r\n` +
      'Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nX-Long: first part\r\n  folded second part\r\nContent-Type: application/octet-stream\r\n\r\n'),
    Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x80]),
    Buffer.from('\r\n'),
  ]);
}

describe.each(DIALECTS)('capture transport and /v1/captured (%s)', (dialect) => {
  let t: TestApp;
  let transport: Transport;
  let other: { key: string; accountId: string };
  const sent: Buffer[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    transport = createTransport(t.deps);
    const b = await t.core.accounts.createAccount('Other account');
    other = { accountId: b.id, key: (await t.core.accounts.createApiKey(b.id, 'b', ['admin'])).key };
    for (const [i, to] of ['a@example.net', 'b@example.net', 'c@example.net'].entries()) {
      const raw = rawMessage(to, `s${i}`);
      sent.push(raw);
      const r = await transport.send({ accountId: t.accountId, messageRowId: 100 + i, envelope: { mailFrom: 'bounce+1@b.example.com', rcptTo: [to] }, raw });
      expect(r).toMatchObject({ status: 'sent', code: 250, tls: false, classification: { class: 'delivered', suppress: false } });
    }
    await transport.send({ accountId: other.accountId, envelope: { mailFrom: 'x@other.example', rcptTo: ['z@example.net'] }, raw: rawMessage('z@example.net', 'other') });
  });
  afterAll(async () => {
    await transport.close();
    await t.close();
  });

  it('is the default transport', () => {
    expect(transport.kind).toBe('capture');
  });

  it('lists metadata in keyset pages and filters by recipient', async () => {
    const p1 = await t.api('GET', '/v1/captured?limit=2');
    expect(p1.status).toBe(200);
    expect(p1.json.items.map((m: { rcpt_to: string }) => m.rcpt_to)).toEqual(['a@example.net', 'b@example.net']);
    expect(p1.json.items[0]).toMatchObject({ message_id: 100, mail_from: 'bounce+1@b.example.com', size: sent[0].length });
    expect(p1.json.items[0].raw).toBeUndefined();
    const p2 = await t.api('GET', `/v1/captured?limit=2&after=${p1.json.next_cursor}`);
    expect(p2.json.items.map((m: { rcpt_to: string }) => m.rcpt_to)).toEqual(['c@example.net']);
    expect(p2.json.next_cursor).toBeNull();
    const f = await t.api('GET', '/v1/captured?rcpt=b@example.net');
    expect(f.json.items).toHaveLength(1);
    expect(f.json.items[0].message_id).toBe(101);
  });

  it('shows one message with its parsed headers', async () => {
    const id = (await t.api('GET', '/v1/captured?rcpt=a@example.net')).json.items[0].id;
    const r = await t.api('GET', `/v1/captured/${id}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id, subject: 's0', to: 'a@example.net', message_id_header: '<s0@example.com>', date: '2026-11-23T09:00:00.000Z' });
    expect(r.json.from).toContain('news@example.com');
    expect(r.json.headers.map((h: { name: string }) => h.name)).toEqual(['From', 'To', 'Subject', 'Message-ID', 'Date', 'X-Long', 'Content-Type']);
    expect(r.json.headers.find((h: { name: string }) => h.name === 'X-Long').value).toBe('first part folded second part');
  });

  it('downloads the exact bytes as message/rfc822 (.eml attachment)', async () => {
    const id = (await t.api('GET', '/v1/captured?rcpt=a@example.net')).json.items[0].id;
    const res = await t.http!.inject({ method: 'GET', url: `/v1/captured/${id}/raw`, headers: { authorization: `Bearer ${t.apiKey}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^message\/rfc822/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="message-${id}.eml"`);
    expect(Buffer.compare(res.rawPayload, sent[0])).toBe(0);
  });

  it("keeps accounts apart: another account's message is 404 and invisible", async () => {
    const mine = (await t.api('GET', '/v1/captured')).json.items.map((m: { id: number }) => m.id);
    const theirs = await t.api('GET', '/v1/captured', undefined, { authorization: `Bearer ${other.key}` });
    expect(theirs.json.items).toHaveLength(1);
    expect(mine).not.toContain(theirs.json.items[0].id);
    expect((await t.api('GET', `/v1/captured/${theirs.json.items[0].id}`)).status).toBe(404);
    expect((await t.api('GET', `/v1/captured/${theirs.json.items[0].id}/raw`)).status).toBe(404);
    expect((await t.api('GET', '/v1/captured/999999')).json.error.code).toBe('E_NOT_FOUND');
  });

  it('rejects a bad id or limit with a validation error', async () => {
    expect((await t.api('GET', '/v1/captured/abc')).status).toBe(400);
    expect((await t.api('GET', '/v1/captured?limit=0')).status).toBe(400);
  });

  it("clears only the caller's captured mail", async () => {
    expect((await t.api('DELETE', '/v1/captured')).status).toBe(204);
    expect((await t.api('GET', '/v1/captured')).json.items).toEqual([]);
    expect((await t.api('GET', '/v1/captured', undefined, { authorization: `Bearer ${other.key}` })).json.items).toHaveLength(1);
  });
});
