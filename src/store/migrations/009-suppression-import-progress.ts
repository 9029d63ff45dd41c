import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Progress of a running suppression import (issue 4, docs/suppressions.md): `updated_at` moves
 * with every committed batch and a heartbeat, so an import whose process ended without finishing
 * (kill -9, a crash, a host that went away) reads as `interrupted` instead of `running` forever.
 */
export async function up(db: Kysely<any>, _d: Dialect): Promise<void> {
  await db.schema.alterTable('suppression_imports').addColumn('updated_at', 'bigint').execute();
  await sql`update suppression_imports set updated_at = coalesce(finished_at, created_at)`.execute(db);
}
