import { useState, type FormEvent } from 'react';
import { api, qs, upload } from '../api';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import { Card, ErrorBox, Field, Loaded, Notice, Page, ProgressBar, useAction, useLoad } from '../ui';

interface List { id: string; name: string; label: string; description: string; created_at: number; counts?: Record<string, number> }

/** What a CSV import answers (contacts or the suppression ledger). */
export interface ImportResult {
  encoding: string; total: number; rejected_count: number; rejected: Array<{ line: number; reason: string; value?: string }>;
  accepted?: number; created?: number; updated?: number; unchanged?: number; kept_unsubscribed?: number; added?: number; existing?: number;
}

/** The figures of an import and its rejected rows with line numbers. */
export function ImportReport({ r }: { r: ImportResult }) {
  const { t, num } = useI18n();
  const figures = (['total', 'accepted', 'created', 'updated', 'unchanged', 'kept_unsubscribed', 'added', 'existing', 'rejected_count'] as const)
    .filter((k) => r[k] !== undefined);
  return (
    <div className="report" data-testid="import-report">
      <Notice kind={r.rejected_count ? 'warn' : 'ok'}>{t('imp.done', { encoding: r.encoding })}</Notice>
      <dl className="figures">{figures.map((k) => <div key={k}><dt>{t(`imp.${k}`)}</dt><dd>{num(r[k] as number)}</dd></div>)}</dl>
      {r.rejected.length > 0 && (
        <details open>
          <summary>{t('imp.rejectedRows', { n: num(r.rejected_count) })}</summary>
          <table>
            <thead><tr><th>{t('imp.line')}</th><th>{t('imp.reason')}</th><th>{t('imp.value')}</th></tr></thead>
            <tbody>{r.rejected.map((x, i) => <tr key={i}><td>{x.line}</td><td>{x.reason}</td><td>{x.value ?? ''}</td></tr>)}</tbody>
          </table>
        </details>
      )}
    </div>
  );
}

/** Lists with their subscriber counts; create a list. */
export function ListsPage() {
  const { t, date } = useI18n();
  const { canWrite } = useSession();
  const s = useLoad(() => api<{ items: List[] }>('GET', '/v1/lists'), []);
  const [name, setName] = useState('');
  const a = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const l = await a.run(() => api<List>('POST', '/v1/lists', { name }));
    if (l) navigate(`/lists/${l.id}`);
  };
  return (
    <Page title={t('nav.lists')}>
      <Card>
        <Loaded state={s}>{(d) => d.items.length ? (
          <table>
            <thead><tr><th>{t('name')}</th><th>List-Id</th><th>{t('created')}</th></tr></thead>
            <tbody>{d.items.map((l) => <tr key={l.id}><td><Link to={`/lists/${l.id}`}>{l.name}</Link></td><td><code>{l.label}</code></td><td>{date(l.created_at)}</td></tr>)}</tbody>
          </table>
        ) : <p className="muted">{t('lists.none')}</p>}</Loaded>
      </Card>
      {canWrite && (
        <Card title={t('lists.create')}>
          <form onSubmit={create} className="row">
            <Field label={t('name')} required value={name} onChange={(e) => setName(e.target.value)} />
            <button type="submit" className="primary" disabled={a.busy}>{t('create')}</button>
          </form>
          {a.error ? <ErrorBox error={a.error} /> : null}
        </Card>
      )}
      <ContactSearch />
    </Page>
  );
}

function ContactSearch() {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<Array<{ id: number; address: string }> | null>(null);
  const a = useAction();
  const submit = (e: FormEvent) => { e.preventDefault(); a.run(async () => setRows((await api('GET', `/v1/contacts${qs({ q, limit: 50 })}`)).items)); };
  return (
    <Card title={t('contacts.search')}>
      <form onSubmit={submit} className="row" role="search">
        <Field label={t('sup.address')} value={q} onChange={(e) => setQ(e.target.value)} placeholder="user@" />
        <button type="submit">{t('search')}</button>
      </form>
      {a.error ? <ErrorBox error={a.error} /> : null}
      {rows && (rows.length ? <ul className="plain">{rows.map((c) => <li key={c.id}><Link to={`/contacts/${c.id}`}>{c.address}</Link></li>)}</ul> : <p className="muted">{t('contacts.none')}</p>)}
    </Card>
  );
}

/** One list: counts and CSV import with progress and a rejected-rows report. */
export function ListPage({ id }: { id: string }) {
  const { t, num } = useI18n();
  const { canWrite } = useSession();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<List>('GET', `/v1/lists/${id}`), [id, n]);
  return (
    <Page title={s.data ? `${t('list')}: ${s.data.name}` : t('list')}>
      <Card>
        <Loaded state={s}>{(l) => (
          <>
            <p>{l.description}</p>
            <dl className="figures">
              {Object.entries(l.counts ?? {}).map(([k, v]) => <div key={k}><dt>{t(`status.${k}`)}</dt><dd data-testid={`count-${k}`}>{num(v)}</dd></div>)}
            </dl>
            <p className="muted">List-Id: <code>{l.label}</code></p>
          </>
        )}</Loaded>
      </Card>
      {canWrite && <CsvImportCard path={`/v1/lists/${id}/import`} title={t('lists.import')} hint={t('lists.importHint')} testid="import-progress" onDone={() => setN((x) => x + 1)} />}
    </Page>
  );
}

/** A CSV upload with a progress bar and the rejected-rows report (contacts and suppressions). */
export function CsvImportCard({ path, title, hint, testid, onDone }: { path: string; title: string; hint: string; testid?: string; onDone: () => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setResult(null); setProgress(0);
    const r = await a.run(() => upload<ImportResult>(path, file, setProgress));
    if (r) { setResult(r); onDone(); }
  };
  return (
    <Card title={title}>
      <form onSubmit={submit}>
        <Field label={t('csvFile')} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} hint={hint} />
        <button type="submit" className="primary" disabled={a.busy || !file}>{t('upload')}</button>
      </form>
      {progress !== null && <ProgressBar value={progress} label={t('uploadProgress')} testid={testid} />}
      {a.error ? <ErrorBox error={a.error} /> : null}
      {result && <ImportReport r={result} />}
    </Card>
  );
}
