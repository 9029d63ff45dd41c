import { sql } from 'kysely';
import type { Deps } from './deps.js';

/** `/healthz` of any process: 200 when the database answers, 503 when not. */
export async function health(deps: Deps): Promise<{ ok: boolean; body: { status: string; database?: string } }> {
  try {
    await sql`select 1`.execute(deps.store.db);
    return { ok: true, body: { status: 'ok', database: deps.store.dialect } };
  } catch {
    return { ok: false, body: { status: 'unavailable' } };
  }
}
