import type { Readable, Writable } from 'node:stream';
import type { Deps } from '../app/deps.js';
import { tryParseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { blocks, REASONS, type SuppressionScope } from '../domain/suppression-rules.js';
import type { Db } from '../store/db.js';
import { suppressionsRepo, type NewEntry, type SuppressionFilter } from '../store/suppressions-repo.js';
import { skipPendingFor } from '../store/suppression-effects.js';
import type { ImportBatch } from '../store/suppression-import-batch.js';
import { newId } from '../domain/ids.js';
import { exportSuppressionsCsv, importSuppressionsCsv } from './suppressions-csv.js';
import { importView, type SuppressionImport } from './suppression-imports.js';
import { prepareEntry, type SuppressionEntryInput } from './suppression-prepare.js';

export type { SuppressionEntryInput } from './suppression-prepare.js';

/** Who or what made a change: recorded with every entry and history row. */
export interface ChangeContext {
  source: string;
  ip?: string;
  userAgent?: string;
}

/** The suppression ledger that every sending path obeys (issue 4). */
export function suppressionsCore(deps: Deps) {
  const repo = suppressionsRepo(deps.store);

  /** The canonical key; an unparseable address (kept as reason invalid) is its lower-cased text. */
  const keyOf = (address: string) => {
    const p = tryParseAddress(address);
    return p.ok ? p.value.key : String(address).trim().toLowerCase();
  };

  /** Validates one entry into a ledger row, or says why not (the CSV import reports it per row). */
  const prepare = (e: SuppressionEntryInput, ctx?: ChangeContext) => prepareEntry(e, ctx);

  /** Writes validated rows in the caller's transaction: ledger, history, and the skip of queued mail (R-UNSUB-9). */
  async function addRows(store: Db, accountId: string, rows: NewEntry[], source: string) {
    const now = deps.clock.now();
    const inserted = await suppressionsRepo(store).addEntries(accountId, rows, source, now);
    await skipPendingFor(store, accountId, inserted, now);
    return { added: inserted.length, existing: rows.length - inserted.length };
  }

  /** Adds entries inside the caller's transaction; any invalid entry fails the whole call (nothing half-written). */
  async function addIn(store: Db, accountId: string, entries: SuppressionEntryInput[], ctx: ChangeContext) {
    const rows = entries.map((e) => {
      const r = prepare(e, ctx);
      if (!r.ok) fail(r.code, r.reason);
      return r.row;
    });
    return addRows(store, accountId, rows, ctx.source);
  }

  const core = {
    /** Adds one or many entries (idempotent: existing entries are counted, not duplicated). */
    async add(accountId: string, entries: SuppressionEntryInput[], ctx: ChangeContext) {
      if (!entries.length) return { added: 0, existing: 0 };
      if (entries.length > 10_000) fail('E_VALIDATION', 'at most 10,000 entries per call; use the CSV import');
      return deps.store.db.transaction().execute((tx) => addIn({ ...deps.store, db: tx }, accountId, entries, ctx));
    },
    /** Removes an entry (= resubscribe); the note is required and kept in the history. */
    async remove(accountId: string, address: string, scope: SuppressionScope, listId: string | null, ctx: ChangeContext & { note: string }) {
      if (!ctx.note || !ctx.note.trim()) fail('E_VALIDATION', 'note is required to remove a suppression');
      const key = keyOf(address);
      await deps.store.db.transaction().execute(async (tx) => {
        const r = suppressionsRepo({ ...deps.store, db: tx });
        const gone = await r.remove(accountId, key, scope, scope === 'list' ? listId ?? '' : '');
        if (!gone) fail('E_NOT_FOUND', 'no such suppression');
        // An entry a bulk import wrote has no 'add' row; keep its add in the history before it goes
        // (marked with the import id: it is a copy, not a new unsubscribe, so no webhook fires for it).
        const snapshot = gone.import_id ? [{
          account_id: accountId, address_key: key, action: 'add', scope, list_id: gone.list_id, reason: gone.reason, source: gone.source,
          note: gone.note, ip: gone.ip, user_agent: gone.user_agent, created_at: Number(gone.created_at), import_id: gone.import_id,
        }] : [];
        await r.history([...snapshot, {
          account_id: accountId, address_key: key, action: 'remove', scope, list_id: gone.list_id, reason: gone.reason,
          source: ctx.source, note: ctx.note, ip: ctx.ip ?? null, user_agent: ctx.userAgent ?? null, created_at: deps.clock.now(),
        }]);
      });
    },
    /** One address: its entries and full history. */
    async get(accountId: string, address: string) {
      const key = keyOf(address);
      return { address_key: key, entries: await repo.entries(accountId, key), history: await repo.historyOf(accountId, key) };
    },
    search: (accountId: string, f: SuppressionFilter) => repo.search(accountId, f),
    async counts(accountId: string) {
      const out: Record<string, number> = Object.fromEntries(REASONS.map((r) => [r, 0]));
      for (const r of await repo.counts(accountId)) out[r.reason] = Number(r.n);
      return out;
    },
    /** The send path's check: the blocking entry per address key, one query per batch. */
    async checkBatch(accountId: string, keys: string[], mail: { category: 'subscription' | 'transactional'; listId: string | null }) {
      const out = new Map<string, { reason: string; scope: string; createdAt: number }>();
      for (let i = 0; i < keys.length; i += 1000) {
        for (const e of await repo.forKeys(accountId, keys.slice(i, i + 1000))) {
          if (!out.has(e.address_key) && blocks(e, mail)) out.set(e.address_key, { reason: e.reason, scope: e.scope, createdAt: Number(e.created_at) });
        }
      }
      return out;
    },
    /**
     * Issue 4 item 7: unsubscribes per list per day, and how long after an unsubscribe a send was
     * skipped (0 when the unsubscribe itself skipped queued mail; the worker's re-check otherwise).
     */
    async unsubscribeStats(accountId: string, days = 30) {
      const from = deps.clock.now() - days * 86_400_000;
      const perDay: Record<string, Record<string, number>> = {};
      for (const r of await repo.unsubscribesByDay(accountId, from)) {
        const day = new Date(Number(r.created_at)).toISOString().slice(0, 10);
        const list = r.list_id || '(all lists)';
        perDay[day] ??= {};
        perDay[day][list] = (perDay[day][list] ?? 0) + 1;
      }
      const delays = (await repo.skipEvents(accountId, from)).map((e) => Number(JSON.parse(e.data ?? '{}').since_block_ms ?? 0)).sort((a, b) => a - b);
      return {
        days, per_day: perDay,
        skipped_after_unsubscribe: { count: delays.length, max_ms: delays.at(-1) ?? null, p50_ms: delays.length ? delays[Math.floor(delays.length / 2)] : null },
      };
    },
    /** For callers already inside a transaction (one-click POST, inbound mailto). */
    addIn,
    /** Rows already canonical (a contact's or message's stored key), inside the caller's transaction. */
    addRowsIn: addRows,
    prepare,
    /** Adds rows that `prepare` validated, in one transaction (the CSV import's batches). */
    addPrepared: (accountId: string, rows: NewEntry[], ctx: ChangeContext) =>
      deps.store.db.transaction().execute((tx) => addRows({ ...deps.store, db: tx }, accountId, rows, ctx.source)),
    /** Streams the ledger (filtered) as CSV to `out`; returns the row count. */
    exportCsv: (accountId: string, f: Omit<SuppressionFilter, 'limit' | 'after'>, out: Writable) => exportSuppressionsCsv(deps, accountId, f, out),
    /** Streams a CSV into the ledger: per-row errors, idempotent; one audit row per import. */
    importCsv: (accountId: string, input: Readable, ctx: { source: string; ip?: string; userAgent?: string }) => importSuppressionsCsv(core, accountId, input, ctx),
    /** Opens a bulk import's audit row (status running); returns its id. */
    async beginImport(accountId: string, ctx: { source: string; ip?: string; userAgent?: string }): Promise<string> {
      const id = newId('imp_', deps.clock.now());
      await repo.createImport({
        id, account_id: accountId, source: ctx.source, status: 'running', encoding: null, total: 0, added: 0, existing: 0, rejected_count: 0,
        error: null, ip: ctx.ip ?? null, user_agent: ctx.userAgent ?? null, created_at: deps.clock.now(), finished_at: null, updated_at: deps.clock.now(),
      });
      return id;
    },
    /** Writes one validated import batch in one transaction; returns how many entries were new. */
    importBatch: (accountId: string, importId: string, batch: ImportBatch, source: string) => repo.importEntries(accountId, importId, batch, source, deps.clock.now()),
    /** Closes a bulk import's audit row with its outcome (`added`/`existing` came with each batch). */
    finishImport: (id: string, outcome: { status: 'done' | 'failed'; encoding?: string | null; total: number; rejected_count: number; error?: string | null }) =>
      repo.finishImport(id, { ...outcome, encoding: outcome.encoding ?? null, error: outcome.error ?? null, finished_at: deps.clock.now(), updated_at: deps.clock.now() }),
    /** Marks a running import alive (IMPORT_HEARTBEAT_MS). */
    touchImport: (id: string) => repo.touchImport(id, deps.clock.now()),
    /** A bulk import's audit row, or undefined (another account's id included). */
    async getImport(accountId: string, id: string): Promise<SuppressionImport | undefined> {
      const row = await repo.getImport(accountId, id);
      return row && importView(row, deps.clock.now());
    },
    /** The account's bulk imports, newest first (keyset: `before` is the previous page's last id). */
    async listImports(accountId: string, before: string | undefined, limit: number): Promise<SuppressionImport[]> {
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail('E_VALIDATION', 'limit must be a whole number from 1 to 1000');
      const now = deps.clock.now();
      return (await repo.listImports(accountId, before, limit)).map((r) => importView(r, now));
    },
  };
  return core;
}

/** The suppressions core's type. */
export type SuppressionsCore = ReturnType<typeof suppressionsCore>;
