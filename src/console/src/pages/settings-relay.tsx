import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { Badge, Card, CopyButton, ErrorBox, Field, Loaded, Notice, Select, useAction, useLoad } from '../ui';

interface Credential {
  id: string; name: string; username: string; rate_per_minute: number | null; allowed_ips: string[]; ip_auth: boolean;
  created_at: number; last_used_at: number | null; revoked_at: number | null;
}
interface Filter { id: string; position: number; name: string; header: string; match: string; value: string; list_id: string }
interface Endpoint { id: string; url: string; description: string; event_types: string[]; status: string; consecutive_failures: number; disabled_reason: string | null; created_at: number }
const EVENT_TYPES = ['sent', 'delivered', 'deferred', 'bounced', 'complained', 'unsubscribed', 'resubscribed', 'skipped', 'alert'];

/** SMTP credentials of the submission relay: the password is shown once; revocable (issue 7). */
export function SmtpCredentialsCard() {
  const { t, date } = useI18n();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<{ items: Credential[] }>('GET', '/v1/smtp-credentials'), [n]);
  const [f, setF] = useState({ name: '', rate: '', ips: '' });
  const [secret, setSecret] = useState<{ username: string; password: string } | null>(null);
  const a = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const r = await a.run(() => api<Credential & { password: string }>('POST', '/v1/smtp-credentials', {
      name: f.name, ...(f.rate ? { rate_per_minute: Number(f.rate) } : {}), ...(f.ips ? { allowed_ips: f.ips.split(/[\s,]+/).filter(Boolean) } : {}),
    }));
    if (r) { setSecret({ username: r.username, password: r.password }); setF({ name: '', rate: '', ips: '' }); setN((x) => x + 1); }
  };
  const revoke = (id: string) => { if (confirm(t('set.revokeConfirm'))) a.run(async () => { await api('DELETE', `/v1/smtp-credentials/${id}`); setN((x) => x + 1); }); };
  return (
    <Card title={t('set.smtp')} testid="smtp-credentials">
      <Loaded state={s}>{(d) => d.items.length ? (
        <table>
          <thead><tr><th>{t('name')}</th><th>{t('col.username')}</th><th>{t('relay.rate')}</th><th>{t('relay.ips')}</th><th>{t('set.lastUsed')}</th><th>{t('status')}</th><th /></tr></thead>
          <tbody>{d.items.map((c) => (
            <tr key={c.id}><td>{c.name}</td><td><code>{c.username}</code></td><td>{c.rate_per_minute ?? '—'}</td><td>{c.allowed_ips.join(', ') || '—'}</td><td>{date(c.last_used_at)}</td>
              <td><Badge value={c.revoked_at ? 'revoked' : 'active'} /></td>
              <td>{!c.revoked_at && <button type="button" className="small danger" onClick={() => revoke(c.id)}>{t('set.revoke')}</button>}</td></tr>
          ))}</tbody>
        </table>
      ) : <p className="muted">{t('none')}</p>}</Loaded>
      <form onSubmit={create} className="row">
        <Field label={t('name')} required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
        <Field label={t('relay.rate')} type="number" min={1} value={f.rate} onChange={(e) => setF({ ...f, rate: e.target.value })} />
        <Field label={t('relay.ips')} value={f.ips} onChange={(e) => setF({ ...f, ips: e.target.value })} placeholder="192.0.2.10, 2001:db8::/64" />
        <button type="submit" className="primary" disabled={a.busy}>{t('create')}</button>
      </form>
      {secret && <Notice>{t('set.secretOnce')} <code>{secret.username}</code> / <code className="wrap" data-testid="smtp-password">{secret.password}</code> <CopyButton value={secret.password} /></Notice>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

/** Ordered relay filters: a header match puts relayed mail on a list (issue 7). */
export function RelayFiltersCard() {
  const { t } = useI18n();
  const [n, setN] = useState(0);
  const s = useLoad(async () => ({
    filters: (await api<{ items: Filter[] }>('GET', '/v1/relay-filters')).items,
    lists: (await api<{ items: Array<{ id: string; name: string }> }>('GET', '/v1/lists')).items,
  }), [n]);
  const [f, setF] = useState({ name: '', header: '', match: 'exact', value: '', list_id: '' });
  const a = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (await a.run(() => api('POST', '/v1/relay-filters', { ...(f.name ? { name: f.name } : {}), header: f.header, match: f.match, value: f.value, list_id: f.list_id }))) {
      setF({ name: '', header: '', match: 'exact', value: '', list_id: '' }); setN((x) => x + 1);
    }
  };
  const remove = (id: string) => { if (confirm(t('set.deleteConfirm'))) a.run(async () => { await api('DELETE', `/v1/relay-filters/${id}`); setN((x) => x + 1); }); };
  return (
    <Card title={t('set.relayFilters')} testid="relay-filters">
      <Loaded state={s}>{({ filters, lists }) => (
        <>
          {filters.length ? (
            <table>
              <thead><tr><th>#</th><th>{t('name')}</th><th>{t('relay.header')}</th><th>{t('relay.match')}</th><th>{t('dom.value')}</th><th>{t('list')}</th><th /></tr></thead>
              <tbody>{filters.map((x) => (
                <tr key={x.id}><td>{x.position}</td><td>{x.name}</td><td><code>{x.header}</code></td><td>{x.match}</td><td><code>{x.value}</code></td>
                  <td>{lists.find((l) => l.id === x.list_id)?.name ?? x.list_id}</td><td><button type="button" className="small danger" onClick={() => remove(x.id)}>{t('delete')}</button></td></tr>
              ))}</tbody>
            </table>
          ) : <p className="muted">{t('none')}</p>}
          <form onSubmit={create} className="row">
            <Field label={t('name')} value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
            <Field label={t('relay.header')} required value={f.header} onChange={(e) => setF({ ...f, header: e.target.value })} placeholder="X-Mailer-Category" />
            <Select label={t('relay.match')} value={f.match} onChange={(e) => setF({ ...f, match: e.target.value })}><option value="exact">exact</option><option value="regex">regex</option></Select>
            <Field label={t('dom.value')} required value={f.value} onChange={(e) => setF({ ...f, value: e.target.value })} />
            <Select label={t('list')} required value={f.list_id} onChange={(e) => setF({ ...f, list_id: e.target.value })}>
              <option value="">—</option>{lists.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
            </Select>
            <button type="submit" className="primary" disabled={a.busy}>{t('create')}</button>
          </form>
        </>
      )}</Loaded>
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

/** Webhook endpoints: the signing secret is shown once; test ping; delivery log (issue 10). */
export function WebhooksCard() {
  const { t } = useI18n();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<{ items: Endpoint[] }>('GET', '/v1/webhooks'), [n]);
  const [f, setF] = useState({ url: '', description: '', types: [] as string[] });
  const [secret, setSecret] = useState('');
  const [msg, setMsg] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const a = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const r = await a.run(() => api<Endpoint & { secret: string }>('POST', '/v1/webhooks', { url: f.url, ...(f.description ? { description: f.description } : {}), ...(f.types.length ? { event_types: f.types } : {}) }));
    if (r) { setSecret(r.secret); setF({ url: '', description: '', types: [] }); setN((x) => x + 1); }
  };
  const test = (id: string) => a.run(async () => {
    const r = await api<{ status_code: number | null; error: string | null }>('POST', `/v1/webhooks/${id}/test`, {});
    setMsg(t('hook.tested', { status: String(r.status_code ?? r.error ?? '—') }));
  });
  const toggle = (x: Endpoint) => a.run(async () => { await api('PATCH', `/v1/webhooks/${x.id}`, { status: x.status === 'active' ? 'disabled' : 'active' }); setN((y) => y + 1); });
  const remove = (id: string) => { if (confirm(t('set.deleteConfirm'))) a.run(async () => { await api('DELETE', `/v1/webhooks/${id}`); setN((x) => x + 1); }); };
  return (
    <Card title={t('set.webhooks')} testid="webhooks">
      <Loaded state={s}>{(d) => d.items.length ? (
        <table>
          <thead><tr><th>URL</th><th>{t('set.events')}</th><th>{t('status')}</th><th>{t('actions')}</th></tr></thead>
          <tbody>{d.items.map((x) => [
            <tr key={x.id}><td><code className="wrap">{x.url}</code>{x.description ? <small className="muted"> {x.description}</small> : null}</td><td>{x.event_types.join(', ')}</td>
              <td><Badge value={x.status} />{x.consecutive_failures ? <small className="warn"> {t('hook.failures', { n: x.consecutive_failures })}</small> : null}</td>
              <td className="row">
                <button type="button" className="small" onClick={() => test(x.id)}>{t('hook.test')}</button>
                <button type="button" className="small" onClick={() => toggle(x)}>{x.status === 'active' ? t('set.disable') : t('set.enable')}</button>
                <button type="button" className="small" aria-expanded={open === x.id} onClick={() => setOpen(open === x.id ? null : x.id)}>{t('hook.deliveries')}</button>
                <button type="button" className="small danger" onClick={() => remove(x.id)}>{t('delete')}</button>
              </td></tr>,
            open === x.id && <tr key={`${x.id}-d`}><td colSpan={4}><Deliveries id={x.id} /></td></tr>,
          ])}</tbody>
        </table>
      ) : <p className="muted">{t('none')}</p>}</Loaded>
      <form onSubmit={create}>
        <div className="row">
          <Field label="URL" type="url" required value={f.url} onChange={(e) => setF({ ...f, url: e.target.value })} placeholder="https://" />
          <Field label={t('hook.description')} value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
        </div>
        <fieldset>
          <legend>{t('set.events')}</legend>
          {EVENT_TYPES.map((x) => (
            <label key={x} className="check"><input type="checkbox" checked={f.types.includes(x)} onChange={(e) => setF({ ...f, types: e.target.checked ? [...f.types, x] : f.types.filter((y) => y !== x) })} />{x}</label>
          ))}
          <small className="muted">{t('hook.allWhenNone')}</small>
        </fieldset>
        <button type="submit" className="primary" disabled={a.busy}>{t('create')}</button>
      </form>
      {secret && <Notice>{t('set.secretOnce')} <code className="wrap">{secret}</code> <CopyButton value={secret} /></Notice>}
      {msg && <Notice>{msg}</Notice>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

function Deliveries({ id }: { id: string }) {
  const { t, date } = useI18n();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<{ items: Array<{ id: number; event_type: string; status: string; attempts: number; last_status_code: number | null; last_error: string | null; created_at: number }> }>('GET', `/v1/webhooks/${id}/deliveries?limit=50`), [id, n]);
  const a = useAction();
  const redeliver = (d: number) => a.run(async () => { await api('POST', `/v1/webhooks/${id}/deliveries/${d}/redeliver`, {}); setN((x) => x + 1); });
  return (
    <Loaded state={s}>{(d) => d.items.length ? (
      <table>
        <thead><tr><th>{t('created')}</th><th>{t('hook.event')}</th><th>{t('status')}</th><th>{t('msg.attempts')}</th><th>{t('hook.response')}</th><th /></tr></thead>
        <tbody>{d.items.map((x) => (
          <tr key={x.id}><td>{date(x.created_at)}</td><td>{x.event_type}</td><td><Badge value={x.status} /></td><td>{x.attempts}</td><td>{x.last_status_code ?? x.last_error ?? '—'}</td>
            <td><button type="button" className="small" onClick={() => redeliver(x.id)} disabled={a.busy}>{t('hook.redeliver')}</button></td></tr>
        ))}</tbody>
      </table>
    ) : <p className="muted">{t('none')}</p>}</Loaded>
  );
}
