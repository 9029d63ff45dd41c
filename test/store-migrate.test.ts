import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { createTestDb, DIALECTS } from './helpers/dialects.js';

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  it('migrates an empty database and is idempotent', async () => {
    const t = await createTestDb(dialect, { migrate: false });
    try {
      const applied = await migrate(t);
      expect(applied).toContain('001-initial');
      expect(await migrate(t)).toEqual([]);
      const tables = await t.db.introspection.getTables();
      const names = tables.map((x) => x.name);
      for (const n of ['accounts', 'api_keys', 'domains', 'dkim_keys', 'contacts', 'subscriptions', 'suppressions', 'messages', 'events']) {
        expect(names).toContain(n);
      }
      await t.db.insertInto('accounts').values({ id: 'a1', name: 'x', created_at: Date.now() }).execute();
      const r = await t.db.insertInto('contacts')
        .values({ account_id: 'a1', address: 'a@b.jp', address_key: 'a@b.jp', attributes: '{}', created_at: 1, updated_at: 1 })
        .returning('id').executeTakeFirstOrThrow();
      expect(typeof r.id).toBe('number');
      const c = await sql<{ n: number }>`select count(*) as n from contacts`.execute(t.db);
      expect(Number(c.rows[0].n)).toBe(1);
    } finally {
      await t.cleanup();
    }
  });
});
