import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { Deps } from '../app/deps.js';
import { tryParseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { listsRepo } from '../store/lists-repo.js';
import { decodeCsvStream } from './csv-decode.js';

/** Summary of an import; `rejected` lists at most MAX_REJECTED rows but every one is counted. */
export interface ImportSummary {
  encoding: string;
  total: number;
  accepted: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected_count: number;
  rejected: Array<{ line: number; reason: string; value?: string }>;
  kept_unsubscribed: number;
}

const ADDRESS_COLUMNS = new Set(['email', 'e-mail', 'mail', 'address', 'email_address', 'emailaddress', 'メールアドレス', 'メール']);
const CONSENT_COLUMNS = new Set(['consent_source', 'consent_at', 'consent_ip', 'confirmed_at']);
const BATCH = 1000;
const MAX_REJECTED = 10_000;

function normaliseHeader(h: string): string {
  return h.replace(/^\uFEFF/, '').trim().toLowerCase();
}

function timeOf(v: string | undefined): number | null {
  if (!v) return null;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Streams a contact CSV into a list (issue 2 item 7): per-row reasons, idempotent upserts, one
 * transaction per 1,000 rows (never a half-written batch), backpressure for flat memory.
 * Existing unsubscribed subscriptions stay unsubscribed (R-UNSUB-12); suppressions are untouched.
 */
export async function importContacts(deps: Deps, accountId: string, listId: string, input: Readable, opts: { onProgress?: (rows: number) => void; consentSource?: string } = {}): Promise<ImportSummary> {
  if (!(await listsRepo(deps.store).get(accountId, listId))) fail('E_NOT_FOUND', 'list not found');
  const { text, encoding } = decodeCsvStream(input);
  const s: ImportSummary = { encoding: 'utf-8', total: 0, accepted: 0, created: 0, updated: 0, unchanged: 0, rejected_count: 0, rejected: [], kept_unsubscribed: 0 };
  const reject = (line: number, reason: string, value?: string) => {
    s.rejected_count++;
    if (s.rejected.length < MAX_REJECTED) s.rejected.push({ line, reason, ...(value !== undefined ? { value: value.slice(0, 200) } : {}) });
  };
  let addressCol: string | null = null;
  const parser = parse({
    columns: (header: string[]) => {
      const cols = header.map(normaliseHeader);
      addressCol = cols.find((c) => ADDRESS_COLUMNS.has(c)) ?? null;
      if (!addressCol) fail('E_CSV', `no address column: the header needs one of ${[...ADDRESS_COLUMNS].join(', ')}`);
      const dup = cols.find((c, i) => c && cols.indexOf(c) !== i);
      if (dup) fail('E_CSV', `column "${dup}" appears twice in the header`);
      return cols;
    },
    bom: true, info: true, skip_empty_lines: true, trim: true, skip_records_with_error: true, max_record_size: 256 * 1024,
  });
  parser.on('skip', (err: Error & { lines?: number; code?: string }) => {
    s.total++;
    reject(err.lines ?? 0, `unreadable CSV row: ${err.code ?? ''} ${err.message.split('\n')[0]}`.trim());
  });
  text.on('error', (e) => parser.destroy(e));
  text.pipe(parser);

  let batch: Array<{ line: number; row: Record<string, string> }> = [];
  const flush = async () => {
    if (!batch.length) return;
    await writeBatch(deps, accountId, listId, batch, s, reject, addressCol!, opts.consentSource ?? 'import');
    batch = [];
    opts.onProgress?.(s.total);
  };
  try {
    for await (const rec of parser as AsyncIterable<{ info: { lines: number }; record: Record<string, string> }>) {
      s.total++;
      batch.push({ line: rec.info.lines, row: rec.record });
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } catch (e) {
    if ((e as { code?: string }).code === 'E_CSV') throw e;
    if ((e as { code?: string }).code?.startsWith?.('CSV_')) fail('E_CSV', `the file cannot be read as CSV: ${(e as Error).message.split('\n')[0]}`);
    throw e;
  }
  s.encoding = await encoding;
  return s;
}

async function writeBatch(
  deps: Deps, accountId: string, listId: string, batch: Array<{ line: number; row: Record<string, string> }>, s: ImportSummary,
  reject: (line: number, reason: string, value?: string) => void, addressCol: string, consentSource: string,
) {
  const now = deps.clock.now();
  const seen = new Map<string, { address: string; key: string; attrs: Record<string, string>; consent: Record<string, string> }>();
  for (const { line, row } of batch) {
    const raw = row[addressCol] ?? '';
    if (/[\uFFFD]/.test(raw)) { reject(line, 'the address contains bytes that are not valid text', raw); continue; }
    const p = tryParseAddress(raw);
    if (!p.ok) { reject(line, p.reason, raw); continue; }
    if (seen.has(p.value.key)) { reject(line, 'duplicate of an earlier row in the file', raw); continue; }
    const attrs: Record<string, string> = {};
    const consent: Record<string, string> = {};
    for (const [k, v] of Object.entries(row)) {
      if (k === addressCol || !k) continue;
      if (CONSENT_COLUMNS.has(k)) consent[k] = v;
      else if (v !== '') attrs[k] = v;
    }
    seen.set(p.value.key, { address: p.value.address, key: p.value.key, attrs, consent });
  }
  if (!seen.size) return;
  await deps.store.db.transaction().execute(async (tx) => {
    const r = contactsRepo({ ...deps.store, db: tx });
    const existing = new Map((await r.byKeys(accountId, [...seen.keys()])).map((c) => [c.address_key, c]));
    const rows = [...seen.values()].map((c) => {
      const prev = existing.get(c.key);
      const merged = prev ? { ...JSON.parse(prev.attributes), ...c.attrs } : c.attrs;
      const json = JSON.stringify(merged);
      if (!prev) s.created++;
      else if (json === prev.attributes) s.unchanged++;
      else s.updated++;
      return { account_id: accountId, address: c.address, address_key: c.key, attributes: json, created_at: now, updated_at: now };
    });
    const ids = await r.upsert(rows);
    const idByKey = new Map(ids.map((x) => [x.address_key, Number(x.id)]));
    const subs = new Map((await r.subscriptionsFor(listId, [...idByKey.values()])).map((x) => [Number(x.contact_id), x.status]));
    const fresh = [];
    for (const c of seen.values()) {
      const id = idByKey.get(c.key)!;
      const st = subs.get(id);
      if (st === 'unsubscribed') s.kept_unsubscribed++;
      if (st !== undefined) continue;
      fresh.push({
        account_id: accountId, list_id: listId, contact_id: id, status: 'subscribed', consent_source: c.consent.consent_source || consentSource,
        consent_at: timeOf(c.consent.consent_at) ?? now, consent_ip: c.consent.consent_ip || null, confirmed_at: timeOf(c.consent.confirmed_at),
        unsubscribed_at: null, created_at: now, updated_at: now,
      });
    }
    await r.insertSubscriptions(fresh);
  });
  s.accepted += seen.size;
}
