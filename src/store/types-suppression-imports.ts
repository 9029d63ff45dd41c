type Millis = number;

/** The bulk-import audit table (see migrations/008-suppression-imports.ts and 009). */
export interface SuppressionImportTables {
  suppression_imports: {
    id: string; account_id: string; source: string; status: string; encoding: string | null;
    total: number; added: number; existing: number; rejected_count: number; error: string | null;
    ip: string | null; user_agent: string | null; created_at: Millis; finished_at: Millis | null;
    /** The last committed batch or heartbeat (migration 009); null only on rows older than it. */
    updated_at: Millis | null;
  };
}
