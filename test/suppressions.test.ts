import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { exportSuppressionsCsv, importSuppressionsCsv } from '../src/core/suppressions-csv.js';
import { mapHistory, type HistorySourceRow } from '../src/webhooks/event-map.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

describe.each(DIALECTS)('suppression ledger on %s (issue 4)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => { await t?.close(); });

  it('adds, finds by canonical key (case, Gmail dots and +tags), and keeps a history', async () => {
    const r = await t.api('POST', '/v1/suppressions', { entries: [
      { address: 'Jane.Doe+news@GMAIL.com', scope: 'account', reason: 'manual', note: 'asked by phone' },
      { address: 'bob@example.jp', scope: 'list', list_id: 'lst_a', reason: 'unsubscribe' },
    ] });
    expect(r.json).toEqual({ added: 2, existing: 0 });
    expect((await t.api('POST', '/v1/suppressions', { entries: [{ address: 'janedoe@googlemail.com', scope: 'account', reason: 'manual' }] })).json).toEqual({ added: 0, existing: 1 });
    const g = await t.api('GET', `/v1/suppressions/${encodeURIComponent('j.a.n.e.d.o.e@gmail.com')}`);
    expect(g.json.entries).toMatchObject([{ address_key: 'janedoe@gmail.com', reason: 'manual', note: 'asked by phone', source: expect.stringMatching(/^key:/) }]);
    expect(g.json.history.map((h: { action: string }) => h.action)).toEqual(['add']);
  });

  it('adds 10,000 entries in one call (chunked under the SQL variable limit)', async () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ address: `many${i}@chunk.example.jp`, scope: 'account', reason: 'manual' }));
    expect((await t.api('POST', '/v1/suppressions', { entries })).json).toEqual({ added: 10_000, existing: 0 });
    await t.db.db.deleteFrom('suppressions').where('address_key', 'like', 'many%').execute();
  });

  it('decides what blocks transactional mail: a newsletter unsubscribe never blocks a password reset', async () => {
    await t.core.suppressions.add(t.accountId, [
      { address: 'unsub@example.jp', scope: 'account', reason: 'unsubscribe' },
      { address: 'hard@example.jp', scope: 'account', reason: 'hard_bounce' },
      { address: 'cmpl@example.jp', scope: 'list', listId: 'lst_b', reason: 'complaint' },
      { address: 'soft@example.jp', scope: 'account', reason: 'soft_bounce_limit' },
      { address: 'man-list@example.jp', scope: 'list', listId: 'lst_b', reason: 'manual' },
      { address: 'unsub-list@example.jp', scope: 'list', listId: 'lst_b', reason: 'unsubscribe' },
    ], { source: 'test' });
    const keys = ['unsub@example.jp', 'hard@example.jp', 'cmpl@example.jp', 'soft@example.jp', 'man-list@example.jp', 'unsub-list@example.jp', 'free@example.jp', 'janedoe@gmail.com'];
    const tx = await t.core.suppressions.checkBatch(t.accountId, keys, { category: 'transactional', listId: null });
    // janedoe@gmail.com: manual with scope account (first test) blocks transactional mail too.
    expect([...tx.keys()].sort()).toEqual(['cmpl@example.jp', 'hard@example.jp', 'janedoe@gmail.com']);
    const subB = await t.core.suppressions.checkBatch(t.accountId, keys, { category: 'subscription', listId: 'lst_b' });
    expect([...subB.keys()].sort()).toEqual(['cmpl@example.jp', 'hard@example.jp', 'janedoe@gmail.com', 'man-list@example.jp', 'soft@example.jp', 'unsub-list@example.jp', 'unsub@example.jp']);
    const subC = await t.core.suppressions.checkBatch(t.accountId, keys, { category: 'subscription', listId: 'lst_c' });
    expect(subC.has('man-list@example.jp')).toBe(false);
    expect(subC.has('unsub-list@example.jp')).toBe(false);
    // canonical matching at check time: case, Gmail dots and +tags
    const canon = await t.core.suppressions.checkBatch(t.accountId, ['janedoe@gmail.com'], { category: 'subscription', listId: null });
    expect(canon.get('janedoe@gmail.com')).toMatchObject({ reason: 'manual', scope: 'account' });
  });

  it('removes only with a note (= resubscribe), recorded in the history', async () => {
    const noNote = await t.api('DELETE', '/v1/suppressions', { address: 'bob@example.jp', scope: 'list', list_id: 'lst_a', note: '' });
    expect(noNote.json.error.code).toBe('E_VALIDATION');
    expect((await t.api('DELETE', '/v1/suppressions', { address: 'bob@example.jp', scope: 'list', list_id: 'lst_a', note: 'confirmed double opt-in again' })).status).toBe(204);
    const g = await t.api('GET', '/v1/suppressions/bob@example.jp');
    expect(g.json.entries).toHaveLength(0);
    expect(g.json.history.map((h: { action: string; note: string | null }) => [h.action, h.note])).toEqual([['add', null], ['remove', 'confirmed double opt-in again']]);
    expect((await t.api('DELETE', '/v1/suppressions', { address: 'bob@example.jp', scope: 'list', list_id: 'lst_a', note: 'x' })).status).toBe(404);
    // an unparseable address can be kept as reason invalid (by its lower-cased text), and removed again
    expect((await t.api('POST', '/v1/suppressions', { entries: [{ address: 'Broken Address@', scope: 'account', reason: 'invalid' }] })).json).toEqual({ added: 1, existing: 0 });
    expect((await t.api('POST', '/v1/suppressions', { entries: [{ address: 'Broken Address@', scope: 'account', reason: 'manual' }] })).json.error.code).toBe('E_BAD_ADDRESS');
    expect((await t.api('DELETE', '/v1/suppressions', { address: 'broken address@', scope: 'account', note: 'typo' })).status).toBe(204);
  });

  it('searches by prefix, reason and scope with keyset pages, and counts by reason', async () => {
    const s = await t.api('GET', '/v1/suppressions?prefix=hard&reason=hard_bounce');
    expect(s.json.items.map((i: { address_key: string }) => i.address_key)).toEqual(['hard@example.jp']);
    const p1 = await t.api('GET', '/v1/suppressions?limit=2');
    const p2 = await t.api('GET', `/v1/suppressions?limit=2&after=${p1.json.next_cursor}`);
    expect(p2.json.items[0].id).toBeGreaterThan(p1.json.items[1].id);
    const c = await t.api('GET', '/v1/suppressions/counts');
    expect(c.json).toMatchObject({ hard_bounce: 1, complaint: 1, unsubscribe: 2, manual: 2, soft_bounce_limit: 1, invalid: 0 });
    const other = await t.core.accounts.createAccount('Other');
    const k = await t.core.accounts.createApiKey(other.id, 'o', ['admin']);
    expect((await t.api('GET', '/v1/suppressions', undefined, { authorization: `Bearer ${k.key}` })).json.items).toEqual([]);
    expect((await t.api('GET', '/v1/suppressions/hard@example.jp', undefined, { authorization: `Bearer ${k.key}` })).json.entries).toEqual([]);
  });

  it('round-trips 100,000 entries through CSV export and an idempotent import', async () => {
    const N = 100_000;
    async function* gen() {
      yield 'email,scope,reason,note\n';
      let chunk = '';
      for (let i = 0; i < N; i++) {
        chunk += `bulk${i}@csv.example.jp,account,${i % 2 ? 'hard_bounce' : 'manual'},row ${i}\n`;
        if (chunk.length > 64_000) { yield chunk; chunk = ''; }
      }
      yield chunk + 'not-an-address,account,manual,\nx@csv.example.jp,account,bogus,\n';
    }
    const first = await importSuppressionsCsv(t.core.suppressions, t.accountId, Readable.from(gen()), { source: 'import:test' });
    expect(first).toMatchObject({ total: N + 2, added: N, existing: 0, rejected_count: 2 });
    const again = await importSuppressionsCsv(t.core.suppressions, t.accountId, Readable.from(gen()), { source: 'import:test' });
    expect(again).toMatchObject({ added: 0, existing: N });
    let text = '';
    const sink = new Writable({ write(c, _e, cb) { text += c.toString(); cb(); } });
    const n = await exportSuppressionsCsv(t.deps, t.accountId, { prefix: 'bulk' }, sink);
    expect(n).toBe(N);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('address,scope,list_id,reason,source,note,created_at');
    expect(lines).toHaveLength(N + 1);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(N);
    // a reader that goes away mid-export ends the export instead of leaving it waiting forever
    let got = 0;
    const quitter = new Writable({ highWaterMark: 1024, write(c, _e, cb) { got += c.length; if (got > 50_000) this.destroy(); else setTimeout(cb, 1); } });
    const partial = await exportSuppressionsCsv(t.deps, t.accountId, { prefix: 'bulk' }, quitter);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(N);
    // re-importing the export is idempotent too
    const back = await importSuppressionsCsv(t.core.suppressions, t.accountId, Readable.from([text]), { source: 'import:test' });
    expect(back).toMatchObject({ added: 0, existing: N, rejected_count: 0 });
  }, 240_000);

  it('reports each bad CSV row with its line (quoted line breaks counted) and writes the good ones', async () => {
    const csv = 'Email,Reason,Scope,List_ID,Note\n'
      + 'ok1@lines.example.jp,manual,,,"two\nlines"\n'
      + 'not-an-address,manual,,,\n'
      + '\n'
      + 'ok2@lines.example.jp,bogus,,,\n'
      + 'ok3@lines.example.jp,unsubscribe,list,,\n'
      + 'OK4@Lines.Example.JP,hard_bounce,,,\n';
    const r = await t.core.suppressions.importCsv(t.accountId, Readable.from([Buffer.from(csv)]), { source: 'import:test' });
    expect(r).toMatchObject({ total: 5, added: 2, rejected_count: 3 });
    expect(r.rejected.map((x) => x.line)).toEqual([4, 6, 7]);
    expect(r.rejected[1].reason).toMatch(/reason must be one of/);
    expect((await t.core.suppressions.get(t.accountId, 'ok4@lines.example.jp')).entries).toMatchObject([{ reason: 'hard_bounce', source: 'import:test' }]);
    await expect(t.core.suppressions.importCsv(t.accountId, Readable.from(['name,phone\nx,y\n']), { source: 'import:test' })).rejects.toMatchObject({ code: 'E_CSV' });
  });

  it('imports and exports through the HTTP API', async () => {
    const r = await t.api('POST', '/v1/suppressions/import', 'address,reason\nhttp1@example.jp,complaint\n', { 'content-type': 'text/csv' });
    expect(r.json).toMatchObject({ added: 1 });
    const e = await t.api('GET', '/v1/suppressions/export.csv?reason=complaint');
    expect(e.headers['content-type']).toMatch(/text\/csv/);
    expect(e.body).toContain('http1@example.jp,account,,complaint,');
  });

  it('a bulk import writes one audit row, no history row per address; GET shows the add, and a removal keeps it', async () => {
    const csv = 'address,reason,scope,list_id,note\naud1@audit.example.jp,unsubscribe,list,lst_aud,from the old system\naud2@audit.example.jp,manual,,,\nbad,manual,,,\n';
    const r = await t.core.suppressions.importCsv(t.accountId, Readable.from([csv]), { source: 'import:test' });
    expect(r).toMatchObject({ import_id: expect.stringMatching(/^imp_/), total: 3, added: 2, existing: 0, rejected_count: 1 });
    expect(await t.core.suppressions.getImport(t.accountId, r.import_id)).toMatchObject({ status: 'done', source: 'import:test', total: 3, added: 2, existing: 0, rejected_count: 1, encoding: 'utf-8' });
    const logged = await t.db.db.selectFrom('suppression_history').select('id').where('address_key', 'like', 'aud%').execute();
    expect(logged).toHaveLength(0);
    const before = (await t.core.suppressions.unsubscribeStats(t.accountId)).per_day;
    const g = await t.api('GET', '/v1/suppressions/aud1@audit.example.jp');
    expect(g.json.entries).toMatchObject([{ reason: 'unsubscribe', scope: 'list', list_id: 'lst_aud', source: 'import:test', note: 'from the old system', import_id: r.import_id }]);
    expect(g.json.history).toMatchObject([{ id: null, action: 'add', reason: 'unsubscribe', scope: 'list', list_id: 'lst_aud', source: 'import:test', note: 'from the old system', import_id: r.import_id, created_at: g.json.entries[0].created_at }]);
    // The import is not a recipient unsubscribing: no webhook per imported address.
    expect(await t.db.db.selectFrom('suppression_history').select('id').where('address_key', '=', 'aud1@audit.example.jp').execute()).toHaveLength(0);

    expect((await t.api('DELETE', '/v1/suppressions', { address: 'aud1@audit.example.jp', scope: 'list', list_id: 'lst_aud', note: 'asked to be back' })).status).toBe(204);
    const after = await t.api('GET', '/v1/suppressions/aud1@audit.example.jp');
    expect(after.json.entries).toHaveLength(0);
    expect(after.json.history.map((h: { action: string; note: string | null; import_id: string | null }) => [h.action, h.note, h.import_id]))
      .toEqual([['add', 'from the old system', r.import_id], ['remove', 'asked to be back', null]]);
    expect(after.json.history[0].created_at).toBe(g.json.entries[0].created_at);
    // The copy of the add fans out nothing; the removal is a resubscribe as before.
    const rows = await t.db.db.selectFrom('suppression_history').selectAll().where('address_key', '=', 'aud1@audit.example.jp').orderBy('id').execute();
    expect(rows.map((h) => mapHistory(h as unknown as HistorySourceRow).map((e) => e.type))).toEqual([[], ['resubscribed']]);
    // Unsubscribes per day count the imported one once, before and after its removal.
    expect((await t.core.suppressions.unsubscribeStats(t.accountId)).per_day).toEqual(before);
    expect(Object.values(before).some((d) => d.lst_aud === 1)).toBe(true);
  });

  it('an import skips the pending mail its new entries block, with one event each, and never changes an existing entry (R-UNSUB-9, R-UNSUB-12)', async () => {
    const other = (await t.core.accounts.createAccount('Other importer')).id;
    const message = async (accountId: string, rcptKey: string, o: { category: string; listId: string | null; status: string }) => {
      const now = Date.now();
      const r = await t.db.db.insertInto('messages').values({
        account_id: accountId, campaign_id: null, content_id: null, list_id: o.listId, contact_id: null, category: o.category, domain_id: null,
        from_address: 'news@example.com', rcpt: rcptKey, rcpt_key: rcptKey, data: null, message_id: `<${Math.random().toString(36).slice(2)}@example.com>`,
        status: o.status, reason: null, attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null, last_reply: null, created_at: now, updated_at: now, sent_at: null,
      }).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    };
    const state = async (id: number) => {
      const m = await t.db.db.selectFrom('messages').select(['status', 'reason']).where('id', '=', id).executeTakeFirstOrThrow();
      const ev = await t.db.db.selectFrom('events').select('data').where('message_id', '=', id).where('type', '=', 'skipped').execute();
      return { ...m, events: ev.map((e) => JSON.parse(e.data!).reason) };
    };
    // An entry that exists before the import (and mail queued after it, which the worker's re-check skips).
    await t.core.suppressions.add(t.accountId, [{ address: 'pe@pend.example.jp', scope: 'account', reason: 'manual', note: 'kept' }], { source: 'api:test' });
    const m = {
      account: await message(t.accountId, 'pa@pend.example.jp', { category: 'subscription', listId: 'lst_pend', status: 'queued' }),
      sent: await message(t.accountId, 'pa@pend.example.jp', { category: 'subscription', listId: 'lst_pend', status: 'sent' }),
      transactional: await message(t.accountId, 'pa@pend.example.jp', { category: 'transactional', listId: null, status: 'queued' }),
      list: await message(t.accountId, 'pl@pend.example.jp', { category: 'subscription', listId: 'lst_pend', status: 'deferred' }),
      otherList: await message(t.accountId, 'pl@pend.example.jp', { category: 'subscription', listId: 'lst_other', status: 'queued' }),
      hard: await message(t.accountId, 'ph@pend.example.jp', { category: 'transactional', listId: null, status: 'paused' }),
      existing: await message(t.accountId, 'pe@pend.example.jp', { category: 'subscription', listId: 'lst_pend', status: 'queued' }),
      otherAccount: await message(other, 'pa@pend.example.jp', { category: 'subscription', listId: 'lst_pend', status: 'queued' }),
    };
    // 10,050 rows: batches of 5,000, 5,000 and 50; the blocking rows sit in the second batch's
    // multi-row statements and in the last batch's single-row inserts.
    const rows = ['email,reason,scope,list_id,note'];
    for (let i = 0; i < 10_050; i++) rows.push(`f${i}@pend.example.jp,manual,,,`);
    rows[6_001] = 'PA@pend.example.jp,unsubscribe,,,';
    rows[6_002] = 'pl@pend.example.jp,unsubscribe,list,lst_pend,';
    rows[6_003] = 'pe@pend.example.jp,unsubscribe,,,changed?';
    rows[10_040] = 'ph@pend.example.jp,hard_bounce,,,';
    const csv = rows.join('\n') + '\n';
    const r = await t.core.suppressions.importCsv(t.accountId, Readable.from([csv]), { source: 'import:test' });
    expect(r).toMatchObject({ total: 10_050, added: 10_049, existing: 1, rejected_count: 0 });
    expect(await state(m.account)).toEqual({ status: 'skipped', reason: 'suppressed:unsubscribe', events: ['suppressed:unsubscribe'] });
    expect(await state(m.list)).toEqual({ status: 'skipped', reason: 'suppressed:unsubscribe', events: ['suppressed:unsubscribe'] });
    expect(await state(m.hard)).toEqual({ status: 'skipped', reason: 'suppressed:hard_bounce', events: ['suppressed:hard_bounce'] });
    for (const id of [m.sent, m.transactional, m.otherList, m.existing, m.otherAccount]) expect((await state(id)).events, String(id)).toEqual([]);
    expect((await state(m.sent)).status).toBe('sent');
    // R-UNSUB-12: the existing entry is left exactly as it was.
    expect((await t.core.suppressions.get(t.accountId, 'pe@pend.example.jp')).entries).toMatchObject([{ reason: 'manual', source: 'api:test', note: 'kept', import_id: null }]);
    // Re-importing adds nothing and skips nothing twice.
    expect(await t.core.suppressions.importCsv(t.accountId, Readable.from([csv]), { source: 'import:test' })).toMatchObject({ added: 0, existing: 10_050 });
    expect((await state(m.account)).events).toEqual(['suppressed:unsubscribe']);
  }, 120_000);

  it('a large import parses on its thread: exact lines, whole batches (a failed batch rolls back), audit of the failure', async () => {
    // > 1M characters, so the parse thread takes it (INLINE_CHARS); a quoted line break early on.
    const rows = ['email,reason,note', 'q0@thread.example.jp,manual,"two\nlines"'];
    for (let i = 1; i < 12_000; i++) rows.push(`q${i}@thread.example.jp,manual,${'n'.repeat(80)}`);
    rows.splice(9000, 0, 'broken@,manual,', 'q9000x@thread.example.jp,bogus,');
    const text = rows.join('\n') + '\n';
    expect(text.length).toBeGreaterThan(1 << 20);
    const r = await t.core.suppressions.importCsv(t.accountId, Readable.from([text.slice(0, 400_000), text.slice(400_000)]), { source: 'import:test' });
    // Line numbers count the quoted line break: row index 9000 of `rows` is on line 9002.
    expect(r).toMatchObject({ total: 12_002, added: 12_000, rejected_count: 2 });
    expect(r.rejected.map((x) => x.line)).toEqual([9002, 9003]);
    expect((await t.core.suppressions.importCsv(t.accountId, Readable.from([text]), { source: 'import:test' }))).toMatchObject({ added: 0, existing: 12_000 });

    // A database failure in the second batch: the first batch (5,000 rows) stays, none of the second is written.
    if (dialect === 'sqlite') {
      await sql`create trigger boom before insert on suppressions when new.address_key = 'z7000@boom.example.jp' begin select raise(abort, 'boom'); end`.execute(t.db.db);
    } else {
      await sql`create function boom() returns trigger language plpgsql as $$ begin if new.address_key = 'z7000@boom.example.jp' then raise exception 'boom'; end if; return new; end $$`.execute(t.db.db);
      await sql`create trigger boom before insert on suppressions for each row execute function boom()`.execute(t.db.db);
    }
    try {
      const z = ['email'];
      for (let i = 0; i < 12_000; i++) z.push(`z${i}@boom.example.jp`);
      await expect(t.core.suppressions.importCsv(t.accountId, Readable.from([z.join('\n') + '\n' + ' '.repeat(1 << 20) + '\n']), { source: 'import:test' })).rejects.toThrow(/boom/);
      const written = await t.db.db.selectFrom('suppressions').select((e) => e.fn.countAll<number>().as('n')).where('address_key', 'like', 'z%@boom.example.jp').executeTakeFirstOrThrow();
      expect(Number(written.n)).toBe(5000);
      const failed = await t.db.db.selectFrom('suppression_imports').selectAll().where('account_id', '=', t.accountId).where('status', '=', 'failed').where('error', 'like', '%boom%').execute();
      expect(failed).toMatchObject([{ status: 'failed', added: 5000, error: expect.stringMatching(/boom/), finished_at: expect.any(Number) }]);
    } finally {
      await sql`drop trigger boom ${sql.raw(dialect === 'postgres' ? 'on suppressions' : '')}`.execute(t.db.db);
      if (dialect === 'postgres') await sql`drop function boom()`.execute(t.db.db);
    }
    // A fatal CSV problem found on the thread (no address column) fails the import with its code.
    await expect(t.core.suppressions.importCsv(t.accountId, Readable.from(['name,phone\n' + 'x,y\n'.repeat(300_000)]), { source: 'import:test' })).rejects.toMatchObject({ code: 'E_CSV' });
  }, 120_000);
});
