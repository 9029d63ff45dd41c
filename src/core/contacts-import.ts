import type { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { parse } from 'csv-parse';
import type { Deps } from '../app/deps.js';
import { tryParseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { listsRepo } from '../store/lists-repo.js';
import { MAX_ATTR_BYTES } from './contacts.js';
import { decodeCsvStream } from './csv-decode.js';
import { FingerprintSet } from './fingerprint-set.js';

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
  const decoded = decodeCsvStream(input);
  const { text, encoding } = decoded;
  const s: ImportSummary = { encoding: 'utf-8', total: 0, accepted: 0, created: 0, updated: 0, unchanged: 0, rejected_count: 0, rejected: [], kept_unsubscribed: 0 };
  const reject = (line: number, reason: string, value?: string) => {
    s.rejected_count++;
    if (s.rejected.length < MAX_REJECTED) s.rejected.push({ line, reason, ...(value !== undefined ? { value: value.slice(0, 200) } : {}) });
  };
  let addressCol: string | null = null;
  // The last line the parser accounted for: a skipped record spans lastLine+1 .. err.lines.
  let lastLine = 1;
  const parser = parse({
    columns: (header: string[]) => {
      const cols = header.map(normaliseHeader);
      addressCol = cols.find((c) => ADDRESS_COLUMNS.has(c)) ?? null;
      if (!addressCol) fail('E_CSV', `no address column: the header needs one of ${[...ADDRESS_COLUMNS].join(', ')}`);
      const dup = cols.find((c, i) => c && cols.indexOf(c) !== i);
      if (dup) fail('E_CSV', `column "${dup}" appears twice in the header`);
      const long = cols.find((c) => c.length > 100);
      if (long) fail('E_CSV', `column names are at most 100 characters: "${long.slice(0, 40)}…"`);
      return cols;
    },
    bom: true, skip_empty_lines: true, trim: true, skip_records_with_error: true, max_record_size: 256 * 1024,
    // Runs in parse order with 'skip' events (the iterator below lags behind both); cheaper than `info: true`.
    on_record: (record: Record<string, string>, ctx: { lines: number }) => ((lastLine = ctx.lines), { line: ctx.lines, row: record }),
  });
  parser.on('skip', (err: Error & { lines?: number; code?: string }) => {
    s.total++;
    // csv-parse over-counts lines after a quote error in CRLF files: clamp to the real last line.
    const end = Math.max(lastLine + 1, Math.min(err.lines ?? lastLine + 1, decoded.lastContentLine()));
    const span = end > lastLine + 1 ? ` (lines ${lastLine + 1}-${end})` : '';
    // csv-parse's own "at line N" is dropped: it is off after quote errors; `line` and `span` are not.
    const what = err.message.split('\n')[0].replace(/ (at|on) line \d+/g, '');
    reject(lastLine + 1, `unreadable CSV row: ${err.code ?? ''} ${what}${span}`.trim());
    lastLine = Math.max(lastLine, end);
  });
  text.on('error', (e) => parser.destroy(e));
  text.pipe(parser);

  let enc = 'utf-8';
  void encoding.then((e) => (enc = e));
  const seenKeys = new FingerprintSet();
  let batch: Row[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await writeBatch({ deps, accountId, listId, addressCol: addressCol!, consentSource: opts.consentSource ?? 'import', s, reject, seenKeys, encoding: () => enc }, batch);
    batch = [];
    opts.onProgress?.(s.total);
  };
  try {
    for await (const rec of parser as AsyncIterable<Row>) {
      s.total++;
      batch.push(rec);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } catch (e) {
    // Stop decoding; the caller owns `input` (an HTTP body is drained by the server).
    input.unpipe(text);
    text.destroy();
    const code = (e as { code?: string }).code;
    if (code === 'E_CSV') throw e;
    if (code?.startsWith?.('CSV_')) {
      fail('E_CSV', `the file cannot be read as CSV after ${s.total} rows: ${(e as Error).message.split('\n')[0]}`, { accepted_before: s.accepted });
    }
    throw e;
  }
  if (addressCol === null) fail('E_CSV', 'the file is empty: a header row with an address column is needed');
  // csv-parse stops for good after some errors (a quote never closed, a record over the size
  // limit); the lines it never reached are reported, not silently dropped.
  if (decoded.lastContentLine() > lastLine) {
    reject(lastLine + 1, `lines ${lastLine + 1}-${decoded.lastContentLine()} were not read: the CSV parser cannot resume after the quoting error above; fix the file and import it again (re-importing is idempotent)`);
  }
  s.rejected.sort((a, b) => a.line - b.line);
  s.encoding = await encoding;
  return s;
}

type Row = { line: number; row: Record<string, string> };
type Candidate = { line: number; raw: string; address: string; key: string; attrs: Record<string, string>; consent: Record<string, string> };
type Ctx = {
  deps: Deps; accountId: string; listId: string; addressCol: string; consentSource: string; s: ImportSummary;
  reject: (line: number, reason: string, value?: string) => void; seenKeys: FingerprintSet; encoding: () => string;
};

/** Checks one row without the database; a reason string when it is rejected. */
function checkRow(c: Ctx, { line, row }: Row): Candidate | string {
  const raw = row[c.addressCol] ?? '';
  // A decoder replacement character means the bytes were not text in the detected encoding.
  if (Object.values(row).some((v) => v.includes('\uFFFD'))) return `the row contains bytes that are not valid ${c.encoding()} text`;
  const p = tryParseAddress(raw);
  if (!p.ok) return p.reason;
  const attrs: Record<string, string> = {};
  const consent: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === c.addressCol || !k) continue;
    if (CONSENT_COLUMNS.has(k)) consent[k] = v;
    else if (v !== '') attrs[k] = v;
  }
  // Consent evidence must be usable as evidence (R-CONSENT-1): a date that parses, a real IP.
  for (const k of ['consent_at', 'confirmed_at']) if (consent[k] && timeOf(consent[k]) === null) return `${k} is not a date (ISO 8601 or epoch milliseconds)`;
  if (consent.consent_ip && isIP(consent.consent_ip) === 0) return 'consent_ip is not an IP address';
  if ((consent.consent_source ?? '').length > 200) return 'consent_source is longer than 200 characters';
  return { line, raw, address: p.value.address, key: p.value.key, attrs, consent };
}

async function writeBatch(c: Ctx, batch: Row[]) {
  const { s, reject } = c;
  const now = c.deps.clock.now();
  const cands = new Map<string, Candidate>();
  for (const r of batch) {
    const v = checkRow(c, r);
    if (typeof v === 'string') { reject(r.line, v, r.row[c.addressCol]); continue; }
    // The first row of an address wins; later ones anywhere in the file are reported, not merged.
    if (!c.seenKeys.add(v.key)) { reject(r.line, 'duplicate of an earlier row in the file', v.raw); continue; }
    cands.set(v.key, v);
  }
  if (!cands.size) return;
  await c.deps.store.db.transaction().execute(async (tx) => {
    const r = contactsRepo({ ...c.deps.store, db: tx });
    const existing = new Map((await r.byKeys(c.accountId, [...cands.keys()])).map((x) => [x.address_key, x]));
    const rows = [];
    const counts = { created: 0, updated: 0, unchanged: 0 };
    for (const cand of [...cands.values()]) {
      const prev = existing.get(cand.key);
      const json = JSON.stringify(prev ? { ...JSON.parse(prev.attributes), ...cand.attrs } : cand.attrs);
      if (json.length * 3 > MAX_ATTR_BYTES && Buffer.byteLength(json) > MAX_ATTR_BYTES) {
        reject(cand.line, 'attributes would be larger than 64 KB', cand.raw);
        cands.delete(cand.key);
        continue;
      }
      counts[!prev ? 'created' : json === prev.attributes ? 'unchanged' : 'updated']++;
      rows.push({ account_id: c.accountId, address: cand.address, address_key: cand.key, attributes: json, created_at: now, updated_at: now });
    }
    if (!rows.length) return;
    const ids = await r.upsert(rows);
    const idByKey = new Map(ids.map((x) => [x.address_key, Number(x.id)]));
    const subs = new Map((await r.subscriptionsFor(c.listId, [...idByKey.values()])).map((x) => [Number(x.contact_id), x.status]));
    const fresh = [];
    let keptUnsubscribed = 0;
    for (const cand of cands.values()) {
      const id = idByKey.get(cand.key)!;
      const st = subs.get(id);
      // An existing subscription is never changed by an import: unsubscribed stays so (R-UNSUB-12).
      if (st === 'unsubscribed') keptUnsubscribed++;
      if (st !== undefined) continue;
      fresh.push({
        account_id: c.accountId, list_id: c.listId, contact_id: id, status: 'subscribed', consent_source: cand.consent.consent_source || c.consentSource,
        consent_at: timeOf(cand.consent.consent_at) ?? now, consent_ip: cand.consent.consent_ip || null, confirmed_at: timeOf(cand.consent.confirmed_at),
        unsubscribed_at: null, created_at: now, updated_at: now,
      });
    }
    await r.insertSubscriptions(fresh);
    // Counted only once the batch is written, so a failed batch leaves the summary consistent.
    s.created += counts.created;
    s.updated += counts.updated;
    s.unchanged += counts.unchanged;
    s.kept_unsubscribed += keptUnsubscribed;
    s.accepted += rows.length;
  });
}
