import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { useSession } from '../session';
import { Badge, Card, ErrorBox, Field, Loaded, Page, Select, useAction, useLoad } from '../ui';

interface Contact {
  id: number; address: string; attributes: Record<string, unknown>; created_at: number; updated_at: number;
  subscriptions: Array<{ id: number; list_id: string; status: string; consent_source: string | null; consent_at: number | null; consent_ip: string | null; confirmed_at: number | null; unsubscribed_at: number | null }>;
}

/** A contact: attributes, subscriptions with consent evidence (R-CONSENT-1), and message history. */
export function ContactPage({ id }: { id: string }) {
  const { t, date } = useI18n();
  const { canWrite } = useSession();
  const [n, setN] = useState(0);
  const s = useLoad(async () => {
    const c = await api<Contact>('GET', `/v1/contacts/${id}`);
    const [lists, msgs, sup] = await Promise.all([
      api<{ items: Array<{ id: string; name: string }> }>('GET', '/v1/lists'),
      api<{ items: Array<{ id: number; subject?: string; status: string; campaign_id: string | null; created_at: number; message_id: string }> }>('GET', `/v1/messages${qs({ recipient: c.address, limit: 100 })}`),
      api<{ entries: Array<{ id: number; scope: string; list_id: string; reason: string; created_at: number }> }>('GET', `/v1/suppressions/${encodeURIComponent(c.address)}`),
    ]);
    return { c, lists: lists.items, msgs: msgs.items, sup: sup.entries };
  }, [id, n]);
  return (
    <Page title={s.data ? s.data.c.address : t('contact')}>
      <Loaded state={s}>{({ c, lists, msgs, sup }) => (
        <>
          <Card title={t('contact.attributes')}>
            <dl className="kv">{Object.entries(c.attributes).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd></div>)}</dl>
            <p data-testid="contact-suppression">{sup.length
              ? sup.map((e) => <span key={e.id}><Badge value="suppressed" /> {e.scope === 'list' ? lists.find((l) => l.id === e.list_id)?.name ?? e.list_id : t('scope.account')} — {t(`reason.${e.reason}`)} ({date(e.created_at)}) </span>)
              : <span className="muted">{t('sup.notSuppressed')}</span>}</p>
          </Card>
          <Card title={t('contact.subscriptions')}>
            <table>
              <thead><tr><th>{t('list')}</th><th>{t('status')}</th><th>{t('contact.consentSource')}</th><th>{t('contact.consentAt')}</th><th>{t('contact.consentIp')}</th><th>{t('contact.confirmedAt')}</th><th>{t('contact.unsubscribedAt')}</th></tr></thead>
              <tbody>{c.subscriptions.map((x) => (
                <tr key={x.id}><td><Link to={`/lists/${x.list_id}`}>{lists.find((l) => l.id === x.list_id)?.name ?? x.list_id}</Link></td><td><Badge value={x.status} /></td>
                  <td>{x.consent_source ?? '—'}</td><td>{date(x.consent_at)}</td><td>{x.consent_ip ?? '—'}</td><td>{date(x.confirmed_at)}</td><td>{date(x.unsubscribed_at)}</td></tr>
              ))}</tbody>
            </table>
            {canWrite && <SubscriptionForm contactId={c.id} lists={lists} onSaved={() => setN((x) => x + 1)} />}
          </Card>
          <Card title={t('contact.messages')}>
            {msgs.length ? (
              <table>
                <thead><tr><th>{t('created')}</th><th>{t('status')}</th><th>{t('campaign')}</th><th>Message-ID</th></tr></thead>
                <tbody>{msgs.map((m) => <tr key={m.id}><td><Link to={`/messages/${m.id}`}>{date(m.created_at)}</Link></td><td><Badge value={m.status} /></td>
                  <td>{m.campaign_id ? <Link to={`/campaigns/${m.campaign_id}`}>{m.campaign_id}</Link> : '—'}</td><td><code>{m.message_id}</code></td></tr>)}</tbody>
              </table>
            ) : <p className="muted">{t('msg.none')}</p>}
          </Card>
        </>
      )}</Loaded>
    </Page>
  );
}

/** Sets a subscription; subscribing records where the consent came from (R-CONSENT-1). */
function SubscriptionForm({ contactId, lists, onSaved }: { contactId: number; lists: Array<{ id: string; name: string }>; onSaved: () => void }) {
  const { t } = useI18n();
  const [f, setF] = useState({ list_id: '', status: 'unsubscribed', source: '' });
  const a = useAction();
  const save = (e: FormEvent) => {
    e.preventDefault();
    a.run(async () => {
      await api('POST', `/v1/contacts/${contactId}/subscriptions`, { list_id: f.list_id, status: f.status, ...(f.status === 'subscribed' ? { consent: { source: f.source } } : {}) });
      onSaved();
    });
  };
  return (
    <form onSubmit={save} className="row" aria-label={t('contact.setSubscription')}>
      <Select label={t('list')} required value={f.list_id} onChange={(e) => setF({ ...f, list_id: e.target.value })}>
        <option value="">—</option>{lists.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
      </Select>
      <Select label={t('status')} value={f.status} onChange={(e) => setF({ ...f, status: e.target.value })}>
        {['subscribed', 'unsubscribed', 'pending'].map((x) => <option key={x} value={x}>{t(`status.${x}`)}</option>)}
      </Select>
      {f.status === 'subscribed' && <Field label={t('contact.consentSource')} required value={f.source} onChange={(e) => setF({ ...f, source: e.target.value })} placeholder="phone call 2026-11-23" />}
      <button type="submit" disabled={a.busy}>{t('contact.setSubscription')}</button>
      {a.error ? <ErrorBox error={a.error} /> : null}
    </form>
  );
}
