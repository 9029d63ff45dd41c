import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_STALE_MS } from '../src/core/suppression-imports.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cli } from './helpers/cli.js';
import { DIALECTS } from './helpers/dialects.js';

const rows = (from: number, to: number, domain: string) => Array.from({ length: to - from }, (_, i) => `p${from + i}@${domain}\n`).join('');

// The bulk-import audit (issue 4): how far an import got is committed with each batch, a lost
// import reads `interrupted`, and the API and the CLI list them per account.
describe.each(DIALECTS)('suppression import audit on %s (issue 4)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => { await t?.close(); });

  it('counts each committed batch while running, reads interrupted once its process is silent, and done at the end', async () => {
    const input = new PassThrough();
    const done = t.core.suppressions.importCsv(t.accountId, input, { source: 'import:test' });
    input.write('email\n' + rows(0, 6000, 'progress.example.jp'));
    let id = '';
    await expect.poll(async () => {
      const [latest] = await t.core.suppressions.listImports(t.accountId, undefined, 1);
      id = latest?.id ?? '';
      return latest && { status: latest.status, added: latest.added, existing: latest.existing };
    }, { timeout: 10_000 }).toEqual({ status: 'running', added: 5000, existing: 0 });
    // The same as the ledger holds: the audit row moves in the batch's own transaction.
    const n = await t.db.db.selectFrom('suppressions').select((e) => e.fn.countAll<number>().as('n')).where('import_id', '=', id).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(5000);

    // No batch and no heartbeat for longer than IMPORT_STALE_MS: the process is taken for lost.
    t.clock.advance(IMPORT_STALE_MS + 1);
    const lost = await t.api('GET', `/v1/suppressions/imports/${id}`);
    expect(lost.status).toBe(200);
    expect(lost.json).toMatchObject({ id, status: 'interrupted', added: 5000, finished_at: null, error: expect.stringMatching(/ended without finishing/) });
    // A heartbeat says it is alive after all.
    await t.core.suppressions.touchImport(id);
    expect((await t.core.suppressions.getImport(t.accountId, id))?.status).toBe('running');

    input.end(rows(6000, 7000, 'progress.example.jp'));
    expect(await done).toMatchObject({ import_id: id, total: 7000, added: 7000 });
    expect(await t.core.suppressions.getImport(t.accountId, id)).toMatchObject({ status: 'done', total: 7000, added: 7000, existing: 0, error: null, finished_at: t.clock.now() });
    // Long after, a finished import stays done.
    t.clock.advance(IMPORT_STALE_MS * 10);
    expect((await t.core.suppressions.getImport(t.accountId, id))?.status).toBe('done');
  });

  it('lists imports newest first with a keyset cursor, per account only; bad input gets its code', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      const r = await t.api('POST', '/v1/suppressions/import', `address\nlist${i}@imports.example.jp\nlist0@imports.example.jp\n`, { 'content-type': 'text/csv' });
      expect(r.status).toBe(200);
      ids.push(r.json.import_id);
    }
    const first = await t.api('GET', '/v1/suppressions/imports?limit=2');
    expect(first.json.items.map((x: { id: string }) => x.id)).toEqual([ids[2], ids[1]]);
    expect(first.json.items[0]).toMatchObject({ status: 'done', source: expect.stringMatching(/^import:key:key_/), total: 2, added: 1, existing: 1, rejected_count: 0 });
    const next = await t.api('GET', `/v1/suppressions/imports?limit=2&after=${first.json.next_cursor}`);
    expect(next.json.items[0].id).toBe(ids[0]);

    const other = await t.core.accounts.createAccount('Other');
    const key = await t.core.accounts.createApiKey(other.id, 'theirs', ['read']);
    const theirs = { authorization: `Bearer ${key.key}` };
    expect((await t.api('GET', '/v1/suppressions/imports', undefined, theirs)).json.items).toEqual([]);
    const foreign = await t.api('GET', `/v1/suppressions/imports/${ids[0]}`, undefined, theirs);
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('E_NOT_FOUND');
    expect((await t.api('GET', '/v1/suppressions/imports?limit=0')).json.error.code).toBe('E_VALIDATION');
    await expect(t.core.suppressions.listImports(t.accountId, undefined, Number('x'))).rejects.toMatchObject({ code: 'E_VALIDATION' });

    const out = await cli(t, ['suppressions', 'imports', '--account', t.accountId, '--limit', '2', '--json']);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[ids[2], 'done'], [ids[1], 'done']]);
    const bad = await cli(t, ['suppressions', 'imports', '--account', t.accountId, '--limit', 'many']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/E_VALIDATION/);
  });
});
