import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import { Card, ErrorBox, Field, Loaded, Notice, Page, TextArea, useAction, useLoad } from '../ui';
import { MergeHelp } from './campaigns';
import { useMergeInsert } from '../merge-insert';

interface Template { id: string; name: string; subject: string; html: string | null; text: string | null; created_at: number; updated_at: number }

/** Liquid templates of the account. */
export function TemplatesPage() {
  const { t, date } = useI18n();
  const { canWrite } = useSession();
  const s = useLoad(() => api<{ items: Template[] }>('GET', '/v1/templates'), []);
  return (
    <Page title={t('nav.templates')} actions={canWrite && <Link className="button primary" to="/templates/new">{t('tpl.new')}</Link>}>
      <Card>
        <Loaded state={s}>{(d) => d.items.length ? (
          <table>
            <thead><tr><th>{t('name')}</th><th>{t('cmp.subject')}</th><th>{t('tpl.updated')}</th></tr></thead>
            <tbody>{d.items.map((x) => <tr key={x.id}><td><Link to={`/templates/${x.id}`}>{x.name}</Link></td><td>{x.subject}</td><td>{date(x.updated_at)}</td></tr>)}</tbody>
          </table>
        ) : <p className="muted">{t('tpl.none')}</p>}</Loaded>
      </Card>
    </Page>
  );
}

/** The template editor: subject, HTML and text with merge-field help; save or delete. */
export function TemplatePage({ id }: { id: string }) {
  const { t } = useI18n();
  const { canWrite } = useSession();
  const isNew = id === 'new';
  const s = useLoad(() => (isNew ? Promise.resolve(null) : api<Template>('GET', `/v1/templates/${id}`)), [id]);
  const [f, setF] = useState({ name: '', subject: '', html: '', text: '' });
  useEffect(() => { if (s.data) setF({ name: s.data.name, subject: s.data.subject, html: s.data.html ?? '', text: s.data.text ?? '' }); }, [s.data]);
  const { refs, insert, onFocus } = useMergeInsert(f, setF);
  const [saved, setSaved] = useState(false);
  const a = useAction();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const body = { name: f.name, subject: f.subject, html: f.html || null, text: f.text || null };
    const r = await a.run(() => (isNew ? api<Template>('POST', '/v1/templates', body) : api<Template>('PATCH', `/v1/templates/${id}`, body)));
    if (r) { setSaved(true); if (isNew) navigate(`/templates/${r.id}`, true); }
  };
  const remove = () => { if (confirm(t('set.deleteConfirm'))) a.run(async () => { await api('DELETE', `/v1/templates/${id}`); navigate('/templates'); }); };
  return (
    <Page title={isNew ? t('tpl.new') : f.name || t('tpl.template')}>
      <Loaded state={s}>{() => (
        <form onSubmit={save} className="compose">
          <div className="compose-main">
            <Card>
              <Field label={t('name')} required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} readOnly={!canWrite} />
              <Field ref={refs.subject} label={t('cmp.subject')} required value={f.subject} onFocus={onFocus('subject')} onChange={(e) => setF({ ...f, subject: e.target.value })} readOnly={!canWrite} />
              <TextArea ref={refs.html} label={t('cmp.html')} rows={14} className="mono" value={f.html} onFocus={onFocus('html')} onChange={(e) => setF({ ...f, html: e.target.value })} readOnly={!canWrite} />
              <TextArea ref={refs.text} label={t('cmp.text')} rows={8} className="mono" value={f.text} onFocus={onFocus('text')} onChange={(e) => setF({ ...f, text: e.target.value })} hint={t('cmp.textHint')} readOnly={!canWrite} />
            </Card>
            {saved && <Notice>{t('tpl.saved')}</Notice>}
            {a.error ? <ErrorBox error={a.error} /> : null}
            {canWrite && (
              <div className="row">
                <button type="submit" className="primary" disabled={a.busy}>{t('tpl.save')}</button>
                {!isNew && <button type="button" className="danger" onClick={remove} disabled={a.busy}>{t('delete')}</button>}
              </div>
            )}
          </div>
          <MergeHelp onInsert={insert} />
        </form>
      )}</Loaded>
    </Page>
  );
}
