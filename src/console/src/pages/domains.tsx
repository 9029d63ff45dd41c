import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import { Badge, Card, CopyButton, ErrorBox, Field, Loaded, Notice, Page, useAction, useLoad } from '../ui';
import { DomainCheckCard } from './compliance';

interface Domain {
  id: string; name: string; return_path_domain: string; unsubscribe_host: string | null; status: string; test_mode: boolean;
  created_at: number; verified_at: number | null; checked_at: number | null;
  keys?: Array<{ id: string; selector: string; algorithm: string; public_key: string; status: string; created_at: number; retired_at: number | null }>;
}
interface Dns { domain: string; zone: string; records: Array<{ type: string; name: string; value: string; purpose: string; rule: string; placeholder?: boolean }> }

/** Sending domains; add one (keys are generated). */
export function DomainsPage() {
  const { t, date } = useI18n();
  const { isAdmin } = useSession();
  const s = useLoad(() => api<{ items: Domain[] }>('GET', '/v1/domains'), []);
  const [name, setName] = useState('');
  const a = useAction();
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const d = await a.run(() => api<Domain>('POST', '/v1/domains', { name }));
    if (d) navigate(`/domains/${d.id}`);
  };
  return (
    <Page title={t('nav.domains')}>
      <Card>
        <Loaded state={s}>{(d) => d.items.length ? (
          <table>
            <thead><tr><th>{t('domain')}</th><th>{t('status')}</th><th>{t('dom.returnPath')}</th><th>{t('dom.checkedAt')}</th></tr></thead>
            <tbody>{d.items.map((x) => <tr key={x.id}><td><Link to={`/domains/${x.id}`}>{x.name}</Link></td><td><Badge value={x.status} /></td><td>{x.return_path_domain}</td><td>{date(x.checked_at)}</td></tr>)}</tbody>
          </table>
        ) : <p className="muted">{t('dom.none')}</p>}</Loaded>
      </Card>
      {isAdmin && (
        <Card title={t('dom.add')}>
          <form onSubmit={add} className="row">
            <Field label={t('domain')} required value={name} onChange={(e) => setName(e.target.value)} placeholder="news.example.com" />
            <button type="submit" className="primary" disabled={a.busy}>{t('dom.addSubmit')}</button>
          </form>
          {a.error ? <ErrorBox error={a.error} /> : null}
        </Card>
      )}
    </Page>
  );
}

/** One domain: DNS records to copy, check results, DKIM keys with rotation, settings. */
export function DomainPage({ id }: { id: string }) {
  const { t, date } = useI18n();
  const { isAdmin } = useSession();
  const [n, setN] = useState(0);
  const s = useLoad(async () => {
    const [d, dns] = await Promise.all([api<Domain>('GET', `/v1/domains/${id}`), api<Dns>('GET', `/v1/domains/${id}/dns`)]);
    return { d, dns };
  }, [id, n]);
  // A check changes the domain's status; reload the overview when its status differs.
  const [checked, setChecked] = useState(0);
  const status = useLoad(() => api<Domain>('GET', `/v1/domains/${id}`).then((d) => d.status), [id, checked]);
  const a = useAction();
  const [msg, setMsg] = useState('');
  const rotate = () => a.run(async () => { await api('POST', `/v1/domains/${id}/rotate-key`, {}); setMsg(t('dom.rotated')); setN((x) => x + 1); });
  const retire = (keyId: string) => a.run(async () => { await api('POST', `/v1/domains/${id}/keys/${keyId}/retire`, {}); setN((x) => x + 1); });
  const toggleTest = (v: boolean) => a.run(async () => { await api('PATCH', `/v1/domains/${id}`, { test_mode: v }); setN((x) => x + 1); });
  return (
    <Page title={s.data ? s.data.d.name : t('domain')}>
      <Loaded state={s}>{({ d, dns }) => (
        <>
          <Card title={t('dom.overview')}>
            <dl className="kv">
              <div><dt>{t('status')}</dt><dd data-testid="domain-status"><Badge value={status.data ?? d.status} /></dd></div>
              <div><dt>{t('dom.returnPath')}</dt><dd>{d.return_path_domain}</dd></div>
              <div><dt>{t('dom.unsubHost')}</dt><dd>{d.unsubscribe_host ?? '—'}</dd></div>
              <div><dt>{t('dom.verifiedAt')}</dt><dd>{date(d.verified_at)}</dd></div>
            </dl>
            {isAdmin && (
              <>
                <label className="check"><input type="checkbox" checked={d.test_mode} onChange={(e) => toggleTest(e.target.checked)} disabled={a.busy} /> {t('dom.testMode')}</label>
                <UnsubHostForm id={id} current={d.unsubscribe_host} onSaved={() => setN((x) => x + 1)} />
              </>
            )}
          </Card>
          <Card title={t('dom.dns')} testid="dns-records">
            <p className="muted">{t('dom.dnsIntro')}</p>
            <table className="dns">
              <thead><tr><th>{t('dom.type')}</th><th>{t('dom.host')}</th><th>{t('dom.value')}</th><th>{t('dom.purpose')}</th><th><span className="sr-only">{t('copy')}</span></th></tr></thead>
              <tbody>{dns.records.map((r, i) => (
                <tr key={i} data-testid="dns-record">
                  <td>{r.type}</td>
                  <td><code>{r.name}</code> <CopyButton value={r.name} label={`${r.type} ${t('dom.host')}`} /></td>
                  <td><code className="wrap">{r.value}</code>{r.placeholder && <small className="warn"> {t('dom.placeholder')}</small>}</td>
                  <td>{r.purpose} <code className="rule">{r.rule}</code></td>
                  <td><CopyButton value={r.value} label={`${r.type} ${r.name}`} /></td>
                </tr>
              ))}</tbody>
            </table>
            <details>
              <summary>{t('dom.zone')}</summary>
              <pre className="zone" data-testid="zone">{dns.zone}</pre>
              <CopyButton value={dns.zone} label={t('dom.zone')} />
            </details>
          </Card>
          <DomainCheckCard id={id} onChecked={() => setChecked((x) => x + 1)} />
          <Card title={t('dom.keys')}>
            {msg && <Notice>{msg}</Notice>}
            <table>
              <thead><tr><th>{t('dom.selector')}</th><th>{t('dom.algorithm')}</th><th>{t('status')}</th><th>{t('created')}</th><th>{t('dom.retiredAt')}</th><th /></tr></thead>
              <tbody>{(d.keys ?? []).map((k) => (
                <tr key={k.id}><td><code>{k.selector}</code></td><td>{k.algorithm}</td><td><Badge value={k.status} /></td><td>{date(k.created_at)}</td><td>{date(k.retired_at)}</td>
                  <td>{isAdmin && k.status === 'retiring' && <button type="button" className="small" onClick={() => retire(k.id)} disabled={a.busy}>{t('dom.retire')}</button>}</td></tr>
              ))}</tbody>
            </table>
            {isAdmin && <button type="button" onClick={() => { if (confirm(t('dom.rotateConfirm'))) rotate(); }} disabled={a.busy} data-testid="rotate-key">{t('dom.rotate')}</button>}
            <p className="muted">{t('dom.rotateHint')}</p>
            {a.error ? <ErrorBox error={a.error} /> : null}
          </Card>
        </>
      )}</Loaded>
    </Page>
  );
}

/** The domain's own unsubscribe host (a CNAME to tegami, R-UNSUB-1); empty uses the platform's. */
function UnsubHostForm({ id, current, onSaved }: { id: string; current: string | null; onSaved: () => void }) {
  const { t } = useI18n();
  const [host, setHost] = useState(current ?? '');
  const a = useAction();
  const save = (e: FormEvent) => {
    e.preventDefault();
    a.run(async () => { await api('PATCH', `/v1/domains/${id}`, { unsubscribe_host: host.trim() || null }); onSaved(); });
  };
  return (
    <form onSubmit={save} className="row">
      <Field label={t('dom.unsubHost')} value={host} onChange={(e) => setHost(e.target.value)} placeholder="unsubscribe.example.com" hint={t('dom.unsubHostHint')} />
      <button type="submit" disabled={a.busy}>{t('dom.save')}</button>
      {a.error ? <ErrorBox error={a.error} /> : null}
    </form>
  );
}
