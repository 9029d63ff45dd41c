import { plainAddressKey, tryParseAddress } from '../domain/address.js';
import type { ErrorCode } from '../domain/errors.js';
import { REASONS, type SuppressionReason, type SuppressionScope } from '../domain/suppression-rules.js';
import type { NewEntry } from '../store/suppressions-repo.js';

/** One entry to add. */
export interface SuppressionEntryInput {
  address: string;
  scope: SuppressionScope;
  listId?: string;
  reason: SuppressionReason | string;
  note?: string;
  /** Per-entry request evidence when one batch carries several requests (group commit). */
  ip?: string;
  userAgent?: string;
}

/** Request evidence recorded with an entry when the entry itself has none. */
export interface PrepareContext { ip?: string; userAgent?: string }

function bad(code: ErrorCode, reason: string) {
  return { ok: false as const, code, reason };
}

/**
 * Validates one entry into a ledger row (canonical key), or says why not (the CSV import reports
 * it per row). Pure: the CSV import's parse thread runs it too.
 */
export function prepareEntry(e: SuppressionEntryInput, ctx?: PrepareContext): { ok: true; row: NewEntry } | { ok: false; code: ErrorCode; reason: string } {
  if (!REASONS.includes(e.reason as SuppressionReason)) return bad('E_VALIDATION', `reason must be one of ${REASONS.join(', ')}`);
  if (e.scope !== 'account' && e.scope !== 'list') return bad('E_VALIDATION', 'scope must be account or list');
  if (e.scope === 'list' && !e.listId) return bad('E_VALIDATION', 'a list-scope entry needs list_id');
  if (e.note && e.note.length > 2000) return bad('E_VALIDATION', 'note: at most 2,000 characters');
  // A plain address's key without the full parse (a bulk import's usual row).
  let k = typeof e.address === 'string' ? plainAddressKey(e.address) : null;
  if (k === null) {
    // An address too broken to parse can still be suppressed as invalid, by its lower-cased text.
    const p = tryParseAddress(e.address);
    if (!p.ok && e.reason !== 'invalid') return bad('E_BAD_ADDRESS', `${e.address}: ${p.reason}`);
    k = p.ok ? p.value.key : String(e.address).trim().toLowerCase();
  }
  if (!k) return bad('E_BAD_ADDRESS', 'empty address');
  return { ok: true, row: { k, s: e.scope, l: e.scope === 'list' ? e.listId! : '', r: e.reason, n: e.note ?? null, ip: e.ip ?? ctx?.ip ?? null, ua: e.userAgent ?? ctx?.userAgent ?? null } };
}
