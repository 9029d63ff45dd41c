import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { useSession } from '../session';
import { Card, ErrorBox, Field, Loaded, Notice, Page, Select, TextArea, useAction, useLoad } from '../ui';
import { CsvImportCard } from './lists';

/** The reasons of the ledger (src/domain/suppression-rules.ts). */
export const REASONS = ['unsubscribe', 'complaint', 'hard_bounce', 'soft_bounce_limit', 'manual', 'invalid'];

interface Entry { id: number; address_key: string; scope: string; list_id: string; reason: string; source: string; note: string | null; created_at: number }
interface Filter { prefix: string; reason: string; scope: string; list_id: string; from: string; to: string }
const EMPTY: Filter = { prefix: '', reason: '', scope: '', list_id: '', from: '', to: '' };
const dayMs = (s: string, end = false) => (s ? Date.parse(`${s}T00:00:00Z`) + (end ? 86_400_000 : 0) : undefined);
const filterQuery = (f: Filter) => ({ prefix: f.prefix.trim(), reason: f.reason, scope: f.scope, list_id: f.list_id, from: dayMs(f.from), to: dayMs(f.to, true) });

/** Suppression list screen (issue 8 item 3): search and filters, history, add, resubscribe with a note, CSV out and in. */
export function SuppressionsPage() {
  const { t } = useI18n();
  const { canWrite } = useSession();
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [filter, setFilter] = useState<Filter>(EMPTY);
  const [selected, setSelected] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const lists = useLoad(() => api<{ items: Array<{ id: string; name: string }> }>('GET', '/v1/lists'), []);
  const listName = (id: string) => lists.data?.items.find((l) => l.id === id)?.name ?? id;
  const set = (k: keyof Filter) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const submit = (e: FormEvent) => { e.preventDefault(); setFilter(draft); setSelected(null); };
  return (
    <Page title={t('nav.suppressions')}>
      <Card title={t('sup.search')}>
        <form className="filters" onSubmit={submit} role="search">
          <Field label={t('sup.address')} value={draft.prefix} onChange={set('prefix')} placeholder="user@" data-testid="sup-prefix" />
          <Select label={t('sup.reason')} value={draft.reason} onChange={set('reason')}>
            <option value="">{t('all')}</option>
            {REASONS.map((r) => <option key={r} value={r}>{t(`reason.${r}`)}</option>)}
          </Select>
          <Select label={t('sup.scope')} value={draft.scope} onChange={set('scope')}>
            <option value="">{t('all')}</option><option value="account">{t('scope.account')}</option><option value="list">{t('scope.list')}</option>
          </Select>
          <Select label={t('list')} value={draft.list_id} onChange={set('list_id')}>
            <option value="">{t('all')}</option>
            {lists.data?.items.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </Select>
          <Field label={t('sup.from')} type="date" value={draft.from} onChange={set('from')} />
          <Field label={t('sup.to')} type="date" value={draft.to} onChange={set('to')} />
          <button type="submit" className="primary">{t('search')}</button>
        </form>
      </Card>
      <Results key={`${JSON.stringify(filter)}:${version}`} filter={filter} listName={listName} onSelect={setSelected} />
      {selected && <History address={selected} listName={listName} canWrite={canWrite} onChanged={() => setVersion((v) => v + 1)} onClose={() => setSelected(null)} />}
      <div className="grid">
        <ExportCard filter={filter} />
        {canWrite && <AddCard lists={lists.data?.items ?? []} onAdded={() => setVersion((v) => v + 1)} />}
        {canWrite && <CsvImportCard path="/v1/suppressions/import" title={t('sup.import')} hint={t('sup.importHint')} onDone={() => setVersion((v) => v + 1)} />}
      </div>
      <ImportsCard key={version} />
    </Page>
  );
}

function Results({ filter, listName, onSelect }: { filter: Filter; listName: (id: string) => string; onSelect: (a: string) => void }) {
  const { t, date } = useI18n();
  const [pages, setPages] = useState<Entry[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useLoad(async () => {
    const r = await api<{ items: Entry[]; next_cursor: string | null }>('GET', `/v1/suppressions${qs({ ...filterQuery(filter), limit: 50 })}`);
    setPages([r.items]); setNext(r.next_cursor);
    return r;
  }, []);
  const more = async () => {
    const r = await api<{ items: Entry[]; next_cursor: string | null }>('GET', `/v1/suppressions${qs({ ...filterQuery(filter), limit: 50, after: next })}`);
    setPages([...pages, r.items]); setNext(r.next_cursor);
  };
  const rows = pages.flat();
  return (
    <Card title={t('sup.results')} testid="sup-results">
      <Loaded state={first}>{() => rows.length ? (
        <>
          <table>
            <thead><tr><th>{t('sup.address')}</th><th>{t('sup.scope')}</th><th>{t('sup.reason')}</th><th>{t('sup.source')}</th><th>{t('sup.at')}</th><th>{t('note')}</th></tr></thead>
            <tbody>{rows.map((e) => (
              <tr key={e.id}>
                <td><button type="button" className="linkish" onClick={() => onSelect(e.address_key)}>{e.address_key}</button></td>
                <td>{e.scope === 'list' ? `${t('scope.list')}: ${listName(e.list_id)}` : t('scope.account')}</td>
                <td>{t(`reason.${e.reason}`)}</td><td>{e.source}</td><td>{date(e.created_at)}</td><td>{e.note ?? ''}</td>
              </tr>
            ))}</tbody>
          </table>
          {next && <button type="button" onClick={more}>{t('loadMore')}</button>}
        </>
      ) : <p className="muted">{t('sup.none')}</p>}</Loaded>
    </Card>
  );
}

interface HistoryData {
  address_key: string;
  entries: Entry[];
  // An imported entry's add has no history row of its own (id null, import_id set; docs/suppressions.md).
  history: Array<{ id: number | null; import_id?: string | null; action: string; scope: string; list_id: string; reason: string | null; source: string; note: string | null; created_at: number }>;
}

function History({ address, listName, canWrite, onChanged, onClose }: { address: string; listName: (id: string) => string; canWrite: boolean; onChanged: () => void; onClose: () => void }) {
  const { t, date } = useI18n();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<HistoryData>('GET', `/v1/suppressions/${encodeURIComponent(address)}`), [address, n]);
  // The bounce side of the address (issue 5): soft bounces in a row and the log, when that API is there.
  const bounces = useLoad(() => api<{ soft_bounces_in_a_row: number; soft_bounce_limit: number; bounces: Array<{ id: number; kind: string; class: string; status: string | null; created_at: number }> }>(
    'GET', `/v1/addresses/${encodeURIComponent(address)}/history`).catch(() => null), [address, n]);
  const [resub, setResub] = useState<Entry | null>(null);
  const [note, setNote] = useState('');
  const [done, setDone] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!resub) return;
    const ok = await a.run(async () => { await api('DELETE', '/v1/suppressions', { address, scope: resub.scope, ...(resub.scope === 'list' ? { list_id: resub.list_id } : {}), note }); return true; });
    if (ok) {
      setDone(t('sup.resubscribed', { address }));
      setResub(null); setNote(''); setN((x) => x + 1); onChanged();
    }
  };
  return (
    <Card title={`${t('sup.history')}: ${address}`} testid="sup-history">
      <button type="button" className="close" onClick={onClose} aria-label={t('close')}>×</button>
      {done && <Notice>{done}</Notice>}
      <Loaded state={s}>{(d) => (
        <>
          <h3>{t('sup.entries')}</h3>
          {d.entries.length ? (
            <ul className="plain">{d.entries.map((e) => (
              <li key={e.id}>
                {e.scope === 'list' ? `${t('scope.list')}: ${listName(e.list_id)}` : t('scope.account')} — {t(`reason.${e.reason}`)} ({date(e.created_at)})
                {canWrite && <button type="button" className="small" onClick={() => { setResub(e); setDone(''); }}>{t('sup.resubscribe')}</button>}
              </li>
            ))}</ul>
          ) : <p className="muted">{t('sup.notSuppressed')}</p>}
          {resub && (
            <form onSubmit={submit} className="inline-form" aria-label={t('sup.resubscribe')}>
              <TextArea label={t('sup.resubNote')} required minLength={1} value={note} onChange={(e) => setNote(e.target.value)} rows={2} hint={t('sup.resubHint')} />
              <button type="submit" className="primary" disabled={a.busy || !note.trim()}>{t('sup.confirmResub')}</button>
              <button type="button" onClick={() => setResub(null)}>{t('cancel')}</button>
              {a.error ? <ErrorBox error={a.error} /> : null}
            </form>
          )}
          {bounces.data && (
            <p className="muted" data-testid="soft-bounces">{t('sup.softBounces', { n: bounces.data.soft_bounces_in_a_row, limit: bounces.data.soft_bounce_limit })}
              {bounces.data.bounces.length > 0 && <> · <Link to={`/bounces?address=${encodeURIComponent(address)}`}>{t('sup.bounceLog', { n: bounces.data.bounces.length })}</Link></>}</p>
          )}
          <h3>{t('sup.timeline')}</h3>
          <ol className="timeline">{d.history.map((h, i) => (
            <li key={h.id ?? `import-${h.import_id ?? ''}-${h.scope}-${h.list_id}-${i}`}><time>{date(h.created_at)}</time> <b>{t(`sup.action.${h.action}`)}</b> {h.scope === 'list' ? `${t('scope.list')}: ${listName(h.list_id)}` : t('scope.account')}
              {h.reason ? ` — ${t(`reason.${h.reason}`)}` : ''} · {h.source}{h.note ? ` · “${h.note}”` : ''}</li>
          ))}</ol>
        </>
      )}</Loaded>
    </Card>
  );
}

interface ImportRow { id: string; status: string; source: string; total: number; added: number; existing: number; rejected_count: number; error: string | null; created_at: number }
/** The badge colour of an import's status (the console's badge classes). */
const IMPORT_BADGE: Record<string, string> = { running: 'running', done: 'ok', failed: 'failed', interrupted: 'warn' };

/** Past CSV imports (the audit rows): how far each got; `interrupted` when its process ended. */
function ImportsCard() {
  const { t, date, num } = useI18n();
  const imports = useLoad(() => api<{ items: ImportRow[] }>('GET', '/v1/suppressions/imports?limit=10'), []);
  return (
    <Card title={t('sup.imports')} testid="sup-imports">
      <Loaded state={imports}>{(d) => d.items.length ? (
        <table>
          <thead><tr><th>{t('sup.impAt')}</th><th>{t('sup.impStatus')}</th><th>{t('sup.impSource')}</th><th>{t('sup.impRows')}</th><th>{t('sup.impAdded')}</th><th>{t('sup.impExisting')}</th><th>{t('sup.impRejected')}</th></tr></thead>
          <tbody>{d.items.map((i) => (
            <tr key={i.id} title={i.error ?? undefined}><td>{date(i.created_at)}</td><td><span className={`badge b-${IMPORT_BADGE[i.status] ?? 'info'}`}>{t(`sup.imp.${i.status}`)}</span></td>
              <td>{i.source}</td><td>{num(i.total)}</td><td>{num(i.added)}</td><td>{num(i.existing)}</td><td>{num(i.rejected_count)}</td></tr>
          ))}</tbody>
        </table>
      ) : <p className="muted">{t('sup.impNone')}</p>}</Loaded>
    </Card>
  );
}

function ExportCard({ filter }: { filter: Filter }) {
  const { t } = useI18n();
  // A plain link: the browser streams the file to disk, however large the ledger is.
  return (
    <Card title={t('sup.export')}>
      <p className="muted">{t('sup.exportHint')}</p>
      <a className="button" href={`/v1/suppressions/export.csv${qs(filterQuery(filter))}`} download="suppressions.csv" data-testid="sup-export">{t('sup.downloadCsv')}</a>
    </Card>
  );
}

function AddCard({ lists, onAdded }: { lists: Array<{ id: string; name: string }>; onAdded: () => void }) {
  const { t } = useI18n();
  const [f, setF] = useState({ addresses: '', scope: 'account', list_id: '', reason: 'manual', note: '' });
  const [result, setResult] = useState<string>('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const addresses = f.addresses.split(/[\s,;]+/).filter(Boolean);
    const r = await a.run(() => api<{ added: number; existing: number }>('POST', '/v1/suppressions', {
      entries: addresses.map((address) => ({ address, scope: f.scope, ...(f.scope === 'list' ? { list_id: f.list_id } : {}), reason: f.reason, ...(f.note ? { note: f.note } : {}) })),
    }));
    if (r) { setResult(t('sup.addedResult', { added: r.added ?? 0, existing: r.existing ?? 0 })); setF({ ...f, addresses: '' }); onAdded(); }
  };
  return (
    <Card title={t('sup.add')}>
      <form onSubmit={submit}>
        <TextArea label={t('sup.addresses')} required rows={3} value={f.addresses} onChange={(e) => setF({ ...f, addresses: e.target.value })} hint={t('sup.addressesHint')} />
        <Select label={t('sup.scope')} value={f.scope} onChange={(e) => setF({ ...f, scope: e.target.value })}>
          <option value="account">{t('scope.account')}</option><option value="list">{t('scope.list')}</option>
        </Select>
        {f.scope === 'list' && (
          <Select label={t('list')} required value={f.list_id} onChange={(e) => setF({ ...f, list_id: e.target.value })}>
            <option value="">—</option>{lists.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </Select>
        )}
        <Select label={t('sup.reason')} value={f.reason} onChange={(e) => setF({ ...f, reason: e.target.value })}>
          {REASONS.map((r) => <option key={r} value={r}>{t(`reason.${r}`)}</option>)}
        </Select>
        <Field label={t('note')} value={f.note} onChange={(e) => setF({ ...f, note: e.target.value })} />
        <button type="submit" className="primary" disabled={a.busy}>{t('sup.addSubmit')}</button>
      </form>
      {result && <Notice>{result}</Notice>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

