import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSuppressionsCsv, importSuppressionsCsv } from '../src/core/suppressions-csv.js';
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
});
