import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from './db.js';

/** Adds an auto-incrementing integer primary key `id` in the dialect's own way. */
export function withIdColumn<T extends string>(t: CreateTableBuilder<T, never>, d: Dialect): CreateTableBuilder<T, 'id'> {
  return d === 'sqlite'
    ? t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : t.addColumn('id', 'bigserial', (c) => c.primaryKey());
}

/** Binary column type: BLOB on SQLite, BYTEA on PostgreSQL. */
export function blobType(d: Dialect): 'blob' | 'bytea' {
  return d === 'sqlite' ? 'blob' : 'bytea';
}

/** NOT NULL helper to keep migration lines short. */
export const nn = (c: ColumnDefinitionBuilder) => c.notNull();

/** Case-sensitive prefix match (`LIKE` is case-insensitive on SQLite for ASCII). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => '\\' + m);
}

/** Row-lock suffix for claim queries: PostgreSQL skips rows other workers hold. */
export function lockClause(d: Dialect) {
  return d === 'postgres' ? sql`for update skip locked` : sql``;
}

/** Drops every table (tests and `tegami migrate --reset` only). */
export async function dropAll(db: Kysely<any>, tables: string[]): Promise<void> {
  for (const t of tables) await db.schema.dropTable(t).ifExists().execute();
}
