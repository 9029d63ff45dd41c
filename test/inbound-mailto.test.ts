import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailtoLocalPart, createUnsubscribeToken, tokenKeys } from '../src/domain/unsubscribe-token.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

/** Sends one message over a real SMTP session; returns the reply or the error text. */
async function smtpSend(port: number, from: string, to: string, body: string): Promise<{ ok: boolean; text: string }> {
  const c = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, connectionTimeout: 5000 } as never);
  c.on('error', () => {});
  await new Promise<void>((res, rej) => c.connect((e?: Error) => (e ? rej(e) : res())));
  try {
    const info = await new Promise<{ response: string }>((res, rej) => c.send({ from, to: [to] }, body, (e: any, i: any) => (e ? rej(e) : res(i))));
    return { ok: true, text: info.response };
  } catch (e) {
    return { ok: false, text: (e as { response?: string }).response ?? String(e) };
  } finally {
    c.quit();
  }
}

describe.each(DIALECTS)('mailto unsubscribe through the inbound SMTP server on %s (issue 4 item 5)', (dialect) => {
  let t: TestApp;
  let listId: string;
  let contactId: number;
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'smtp'], create: { inboundPort: 0 } });
    await t.core.domains.addDomain(t.accountId, 'example.com');
    listId = (await seedList(t.db.db, t.accountId, 'Weekly', ['mailto-reader@example.org'])).id;
    contactId = Number((await t.db.db.selectFrom('contacts').select('id').executeTakeFirstOrThrow()).id);
  });
  afterAll(async () => { await t?.close(); });

  it('suppresses on a u+TOKEN message, committed before 250', async () => {
    const token = createUnsubscribeToken(tokenKeys(t.deps.masterKey), { accountId: t.accountId, listId, subject: 'c', subjectId: contactId, issuedAt: 1 });
    const r = await smtpSend(t.inboundPort!, 'reader@example.org', `u+${token}@bounces.example.com`, 'Subject: unsubscribe\r\n\r\nplease\r\n');
    expect(r.ok, r.text).toBe(true);
    const s = await t.core.suppressions.get(t.accountId, 'mailto-reader@example.org');
    expect(s.entries).toMatchObject([{ scope: 'list', list_id: listId, reason: 'unsubscribe', source: 'mailto', ip: '127.0.0.1' }]);
  });

  it('suppresses on the short u+<kid>.<id>.<sig> form tegami writes (≤ 64 octets, any letter case), only for subscription mail', async () => {
    const sub = await t.api('POST', '/v1/messages', { from: 'news@example.com', to: ['short-form@example.org'], subject: 's', text: 'x {{ unsubscribe_url }}', category: 'subscription', list_id: listId });
    const tx = await t.api('POST', '/v1/messages', { from: 'news@example.com', to: ['receipt@example.org'], subject: 'r', text: 'x', category: 'transactional' });
    expect([sub.status, tx.status]).toEqual([202, 202]);
    const keys = tokenKeys(t.deps.masterKey);
    const local = createMailtoLocalPart(keys, Number(sub.json.messages[0].id));
    expect(local.length).toBeLessThanOrEqual(64);
    // An MTA on the way may fold the case of the local part: hex and base 36 survive it.
    const r = await smtpSend(t.inboundPort!, 'short-form@example.org', `${local.toUpperCase().replace(/^U/, 'u')}@bounces.example.com`, 'Subject: unsubscribe\r\n\r\nplease\r\n');
    expect(r.ok, r.text).toBe(true);
    expect((await t.core.suppressions.get(t.accountId, 'short-form@example.org')).entries).toMatchObject([{ scope: 'list', list_id: listId, reason: 'unsubscribe', source: 'mailto' }]);
    // A transactional message carries no List-Unsubscribe: its id unsubscribes nobody; a forged signature neither.
    const txLocal = createMailtoLocalPart(keys, Number(tx.json.messages[0].id));
    for (const rcpt of [`${txLocal}@bounces.example.com`, `${local.slice(0, -3)}000@bounces.example.com`]) {
      const bad = await smtpSend(t.inboundPort!, 'x@example.org', rcpt, 'Subject: x\r\n\r\ny\r\n');
      expect(bad.text, rcpt).toMatch(/^550 5\.1\.1/);
    }
    expect((await t.core.suppressions.get(t.accountId, 'receipt@example.org')).entries).toEqual([]);
  });

  it('answers 550 5.1.1 to unknown recipients, forged tokens and foreign domains: never a relay', async () => {
    const token = createUnsubscribeToken(tokenKeys(t.deps.masterKey), { accountId: t.accountId, listId, subject: 'c', subjectId: contactId, issuedAt: 1 });
    for (const rcpt of ['someone@bounces.example.com', `u+${token.slice(0, -2)}xx@bounces.example.com`, `u+${token}@gmail.com`, 'victim@gmail.com']) {
      const r = await smtpSend(t.inboundPort!, 'x@example.org', rcpt, 'Subject: x\r\n\r\ny\r\n');
      expect(r.ok, rcpt).toBe(false);
      expect(r.text, rcpt).toMatch(/^550 5\.1\.1/);
    }
  });
});
