import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import { Badge, Card, ErrorBox, Field, Loaded, Page, Select, TextArea, useAction, useLoad, usePaged } from '../ui';
import { useMergeInsert } from '../merge-insert';

/** A campaign as the API shows it. */
export interface Campaign {
  id: string; name: string; status: string; list_ids: string[]; from: string; subject: string;
  scheduled_at: number | null; planned: number; created_at: number; started_at: number | null; finished_at: number | null;
}

/** Campaigns, newest first. */
export function CampaignsPage() {
  const { t, date, num } = useI18n();
  const { canWrite } = useSession();
  const p = usePaged<Campaign>((after) => `/v1/campaigns${qs({ limit: 50, after })}`, []);
  return (
    <Page title={t('nav.campaigns')} actions={canWrite && <Link className="button primary" to="/campaigns/new">{t('cmp.new')}</Link>}>
      <Card>
        <Loaded state={p.state}>{() => p.rows.length ? (
          <>
          <table>
            <thead><tr><th>{t('name')}</th><th>{t('status')}</th><th>{t('cmp.subject')}</th><th>{t('cmp.planned')}</th><th>{t('cmp.scheduledAt')}</th><th>{t('created')}</th></tr></thead>
            <tbody>{p.rows.map((c) => (
              <tr key={c.id}><td><Link to={`/campaigns/${c.id}`}>{c.name}</Link></td><td><Badge value={c.status} /></td><td>{c.subject}</td>
                <td>{num(c.planned)}</td><td>{date(c.scheduled_at)}</td><td>{date(c.created_at)}</td></tr>
            ))}</tbody>
          </table>
          {p.more && <button type="button" onClick={p.more}>{t('loadMore')}</button>}
          </>
        ) : <p className="muted">{t('cmp.none')}</p>}</Loaded>
      </Card>
    </Page>
  );
}

/** Merge fields every copy has; contact attributes come from the list's contacts. */
const MERGE_FIELDS: Array<[string, string]> = [
  ['{{ email }}', 'merge.email'],
  ['{{ contact.name }}', 'merge.contactAttr'],
  ['{{ name | default: "" }}', 'merge.default'],
  ['{{ unsubscribe_url }}', 'merge.unsubscribe'],
  ['{{ preferences_url }}', 'merge.preferences'],
];

/** The merge fields with buttons that insert them at the cursor of the focused field. */
export function MergeHelp({ onInsert }: { onInsert: (token: string) => void }) {
  const { t } = useI18n();
  return (
    <aside className="card merge-help" aria-labelledby="merge-title">
      <h2 id="merge-title">{t('merge.title')}</h2>
      <p className="muted">{t('merge.intro')}</p>
      <ul className="plain">
        {MERGE_FIELDS.map(([tok, key]) => (
          <li key={tok}><button type="button" className="small" onClick={() => onInsert(tok)} aria-label={`${t('merge.insert')} ${tok}`}><code>{tok}</code></button> {t(key)}</li>
        ))}
      </ul>
      <p className="muted">{t('merge.escape')}</p>
      <p className="muted">{t('merge.footer')}</p>
    </aside>
  );
}

/** Compose a campaign: lists, sender, template or inline content, merge-field help. */
export function CampaignNewPage() {
  const { t } = useI18n();
  const data = useLoad(async () => {
    const [lists, domains, templates] = await Promise.all([
      api<{ items: Array<{ id: string; name: string }> }>('GET', '/v1/lists'),
      api<{ items: Array<{ id: string; name: string }> }>('GET', '/v1/domains'),
      api<{ items: Array<{ id: string; name: string; subject: string; html: string | null; text: string | null }> }>('GET', '/v1/templates'),
    ]);
    return { lists: lists.items, domains: domains.items, templates: templates.items };
  }, []);
  const [f, setF] = useState({ name: '', list_ids: [] as string[], from: '', reply_to: '', template_id: '', subject: '', html: '', text: '' });
  const { refs, insert, onFocus } = useMergeInsert(f, setF);
  const a = useAction();
  const useTemplate = (id: string) => {
    const tpl = data.data?.templates.find((x) => x.id === id);
    setF({ ...f, template_id: id, ...(tpl ? { subject: tpl.subject, html: tpl.html ?? '', text: tpl.text ?? '' } : {}) });
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const c = await a.run(() => api<Campaign>('POST', '/v1/campaigns', {
      name: f.name, list_ids: f.list_ids, from: f.from, reply_to: f.reply_to || null, subject: f.subject, html: f.html || null, text: f.text || null,
    }));
    if (c) navigate(`/campaigns/${c.id}`);
  };
  const saveTemplate = () => a.run(async () => {
    await api('POST', '/v1/templates', { name: f.name || f.subject, subject: f.subject, html: f.html || null, text: f.text || null });
    data.reload();
  });
  return (
    <Page title={t('cmp.new')}>
      <Loaded state={data}>{(d) => (
        <form onSubmit={submit} className="compose">
          <div className="compose-main">
            <Card title={t('cmp.basics')}>
              <Field label={t('name')} required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} data-testid="cmp-name" />
              <fieldset>
                <legend>{t('cmp.lists')}</legend>
                {d.lists.length ? d.lists.map((l) => (
                  <label key={l.id} className="check">
                    <input type="checkbox" checked={f.list_ids.includes(l.id)}
                      onChange={(e) => setF({ ...f, list_ids: e.target.checked ? [...f.list_ids, l.id] : f.list_ids.filter((x) => x !== l.id) })} />
                    {l.name}
                  </label>
                )) : <p className="muted">{t('lists.none')}</p>}
              </fieldset>
              <Field label={t('cmp.from')} required value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} data-testid="cmp-from"
                placeholder={d.domains[0] ? `"News" <news@${d.domains[0].name}>` : 'news@example.com'} hint={t('cmp.fromHint', { domains: d.domains.map((x) => x.name).join(', ') || '—' })} />
              <Field label={t('cmp.replyTo')} value={f.reply_to} onChange={(e) => setF({ ...f, reply_to: e.target.value })} />
            </Card>
            <Card title={t('cmp.content')}>
              <Select label={t('cmp.template')} value={f.template_id} onChange={(e) => useTemplate(e.target.value)}>
                <option value="">{t('cmp.inline')}</option>
                {d.templates.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
              </Select>
              <Field ref={refs.subject} label={t('cmp.subject')} required value={f.subject} onFocus={onFocus('subject')}
                onChange={(e) => setF({ ...f, subject: e.target.value })} data-testid="cmp-subject" />
              <TextArea ref={refs.html} label={t('cmp.html')} rows={10} className="mono" value={f.html} onFocus={onFocus('html')}
                onChange={(e) => setF({ ...f, html: e.target.value })} data-testid="cmp-html" />
              <TextArea ref={refs.text} label={t('cmp.text')} rows={6} className="mono" value={f.text} onFocus={onFocus('text')}
                onChange={(e) => setF({ ...f, text: e.target.value })} hint={t('cmp.textHint')} />
            </Card>
            {a.error ? <ErrorBox error={a.error} /> : null}
            <div className="row">
              <button type="submit" className="primary" disabled={a.busy || !f.list_ids.length} data-testid="cmp-create">{t('cmp.saveDraft')}</button>
              <button type="button" onClick={saveTemplate} disabled={a.busy || !f.subject}>{t('cmp.saveTemplate')}</button>
            </div>
          </div>
          <MergeHelp onInsert={insert} />
        </form>
      )}</Loaded>
    </Page>
  );
}
