import type { SuppressionImportRow } from '../store/suppressions-repo.js';

/** How often a running import marks itself alive between batches (a slow upload). */
export const IMPORT_HEARTBEAT_MS = 30_000;
/** A running import not heard of for this long has lost its process: `interrupted`. */
export const IMPORT_STALE_MS = 5 * IMPORT_HEARTBEAT_MS;

/**
 * A bulk import as the API shows it. `status` is running, done, failed, or interrupted: the
 * process ended without finishing (kill -9, a crash, a lost host). `added` and `existing` count
 * what is committed, batch by batch, so an interrupted or failed import says how far it got; its
 * committed batches stay, and importing the same file again adds only the rest (idempotent).
 */
export type SuppressionImport = Omit<SuppressionImportRow, 'updated_at'> & { status: 'running' | 'done' | 'failed' | 'interrupted'; updated_at: number };

/** The row as the API shows it, with a lost import's status made `interrupted`. */
export function importView(row: SuppressionImportRow, now: number): SuppressionImport {
  const updatedAt = Number(row.updated_at ?? row.created_at);
  const lost = row.status === 'running' && now - updatedAt > IMPORT_STALE_MS;
  return {
    ...row, total: Number(row.total), added: Number(row.added), existing: Number(row.existing), rejected_count: Number(row.rejected_count),
    created_at: Number(row.created_at), finished_at: row.finished_at === null ? null : Number(row.finished_at), updated_at: updatedAt,
    status: lost ? 'interrupted' : (row.status as SuppressionImport['status']),
    error: lost ? `no progress since ${new Date(updatedAt).toISOString()}: the importing process ended without finishing; the batches it committed stay` : row.error,
  };
}
