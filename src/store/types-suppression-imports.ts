type Millis = number;

/** The bulk-import audit table (see migrations/008-suppression-imports.ts and 009). */
export interface SuppressionImportTables {
  suppression_imports: {
    id: string; account_id: string; source: string; status: string; encoding: string | null;
    total: number; added: number; existing: number; rejected_count: number; error: string | null;
    ip: string | null; user_agent: string | null; created_at: Millis; finished_at: Millis | null;
    /** The last committed batch, heartbeat or finish (migration 009, which filled it in for older rows). */
    updated_at: Millis | null;
  };
}
