import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';
import { nn } from '../dialect.js';

/**
 * Bulk-import audit (issue 4, docs/suppressions.md): one `suppression_imports`
 * row per CSV import instead of one history row per imported address. Ledger entries an import
 * wrote carry its id in `suppressions.import_id`; the history view shows them as their 'add', and a
 * removal of such an entry first copies its add into `suppression_history` (with the import id)
 * so the add stays in the history once the entry is gone.
 */
export async function up(db: Kysely<any>, _d: Dialect): Promise<void> {
  const s = db.schema;
  await s.createTable('suppression_imports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', nn).addColumn('source', 'text', nn).addColumn('status', 'text', nn)
    .addColumn('encoding', 'text').addColumn('total', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('added', 'bigint', (c) => c.notNull().defaultTo(0)).addColumn('existing', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected_count', 'bigint', (c) => c.notNull().defaultTo(0)).addColumn('error', 'text')
    .addColumn('ip', 'text').addColumn('user_agent', 'text')
    .addColumn('created_at', 'bigint', nn).addColumn('finished_at', 'bigint').execute();
  await s.createIndex('suppression_imports_account').on('suppression_imports').columns(['account_id', 'created_at']).execute();
  await s.alterTable('suppressions').addColumn('import_id', 'text').execute();
  await s.alterTable('suppression_history').addColumn('import_id', 'text').execute();
}
