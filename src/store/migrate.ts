import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './db.js';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-bounces.js';
import * as m003 from './migrations/003-dmarc.js';
import * as m004 from './migrations/004-relay.js';
import * as m005 from './migrations/005-webhooks.js';
import * as m006 from './migrations/006-compliance.js';
import * as m007 from './migrations/007-console.js';
import * as m008 from './migrations/008-suppression-imports.js';
import * as m009 from './migrations/009-suppression-import-progress.js';

/** Every migration in order; one set for both dialects. */
const MIGRATIONS = {
  '001-initial': m001, '002-bounces': m002, '003-dmarc': m003, '004-relay': m004,
  '005-webhooks': m005, '006-compliance': m006, '007-console': m007,
  '008-suppression-imports': m008, '009-suppression-import-progress': m009,
};

/** Applies every pending migration; returns the names applied. */
export async function migrate(store: Db): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (db) => m.up(db, store.dialect) };
      return out;
    },
  };
  // On PostgreSQL name the schema explicitly: Kysely otherwise looks for its tables in every
  // schema and, seeing another schema's copy, skips creating its own (several tenants or tests
  // per database).
  let migrationTableSchema: string | undefined;
  if (store.dialect === 'postgres') {
    migrationTableSchema = (await sql<{ s: string }>`select current_schema() as s`.execute(store.db)).rows[0].s;
  }
  const migrator = new Migrator({
    db: store.db, provider, migrationTableName: 'tegami_migrations', migrationLockTableName: 'tegami_migrations_lock', migrationTableSchema,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
