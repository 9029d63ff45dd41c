import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { Badge, Card, CopyButton, ErrorBox, Field, Loaded, Notice, Page, Select, useAction, useLoad } from '../ui';
import { RelayFiltersCard, SmtpCredentialsCard, WebhooksCard } from './settings-relay';

/** Settings (issue 8 item 8): API keys, users, SMTP credentials, relay filters, webhooks. */
export function SettingsPage() {
  const { t } = useI18n();
  const { isAdmin } = useSession();
  return (
    <Page title={t('nav.settings')}>
      {!isAdmin && <Notice kind="warn">{t('set.adminsOnly')}</Notice>}
      <ProfileCard />
      {isAdmin && <ApiKeysCard />}
      {isAdmin && <UsersCard />}
      {isAdmin && <SmtpCredentialsCard />}
      {isAdmin && <RelayFiltersCard />}
      {isAdmin && <WebhooksCard />}
    </Page>
  );
}

function ProfileCard() {
  const { t } = useI18n();
  const s = useSession();
  const [f, setF] = useState({ current: '', password: '', again: '' });
  const [mismatch, setMismatch] = useState(false);
  const a = useAction();
  const change = async (e: FormEvent) => {
    e.preventDefault();
    setMismatch(f.password !== f.again);
    if (f.password !== f.again) return;
    // Every session of the user ends: back to the login page.
    if (await a.run(async () => { await api('POST', '/v1/session/password', { current: f.current, password: f.password }); return true; })) location.assign('/console/');
  };
  return (
    <Card title={t('set.profile')} testid="profile">
      <dl className="kv">
        <div><dt>{t('login.email')}</dt><dd>{s.user.email}</dd></div>
        <div><dt>{t('set.role')}</dt><dd>{t(`role.${s.user.role}`)}</dd></div>
        <div><dt>{t('set.account')}</dt><dd>{s.account.name} (<code>{s.account.id}</code>)</dd></div>
      </dl>
      <form onSubmit={change} className="row" aria-label={t('set.changePassword')}>
        <Field label={t('set.currentPassword')} type="password" autoComplete="current-password" required value={f.current} onChange={(e) => setF({ ...f, current: e.target.value })} />
        <Field label={t('set.newPassword')} type="password" autoComplete="new-password" required minLength={12} value={f.password} onChange={(e) => setF({ ...f, password: e.target.value })} />
        <Field label={t('set.newPasswordAgain')} type="password" autoComplete="new-password" required value={f.again} onChange={(e) => setF({ ...f, again: e.target.value })} />
        <button type="submit" disabled={a.busy}>{t('set.changePassword')}</button>
      </form>
      {mismatch && <p className="error" role="alert">{t('set.passwordMismatch')}</p>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

interface Key { id: string; name: string; scopes: string; created_at: number; last_used_at: number | null; revoked_at: number | null; created_by: string | null }

function ApiKeysCard() {
  const { t, date } = useI18n();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<{ items: Key[] }>('GET', '/v1/api-keys'), [n]);
  const [name, setName] = useState('');
  const [scope, setScope] = useState('read');
  const [secret, setSecret] = useState('');
  const a = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const k = await a.run(() => api<{ key: string }>('POST', '/v1/api-keys', { name, scopes: [scope] }));
    if (k) { setSecret(k.key); setName(''); setN((x) => x + 1); }
  };
  const revoke = (id: string) => { if (confirm(t('set.revokeConfirm'))) a.run(async () => { await api('DELETE', `/v1/api-keys/${id}`); setN((x) => x + 1); }); };
  return (
    <Card title={t('set.apiKeys')} testid="api-keys">
      <Loaded state={s}>{(d) => (
        <table>
          <thead><tr><th>{t('name')}</th><th>{t('set.scopes')}</th><th>{t('created')}</th><th>{t('set.lastUsed')}</th><th>{t('status')}</th><th /></tr></thead>
          <tbody>{d.items.map((k) => (
            <tr key={k.id}><td>{k.name} <code>{k.id}</code></td><td>{k.scopes}</td><td>{date(k.created_at)}</td><td>{date(k.last_used_at)}</td>
              <td>{k.revoked_at ? <Badge value="revoked" /> : <Badge value="active" />}</td>
              <td>{!k.revoked_at && <button type="button" className="small danger" onClick={() => revoke(k.id)}>{t('set.revoke')}</button>}</td></tr>
          ))}</tbody>
        </table>
      )}</Loaded>
      <form onSubmit={create} className="row">
        <Field label={t('name')} required value={name} onChange={(e) => setName(e.target.value)} />
        <Select label={t('set.scope')} value={scope} onChange={(e) => setScope(e.target.value)}>
          <option value="read">read</option><option value="write">write</option><option value="admin">admin</option>
        </Select>
        <button type="submit" className="primary" disabled={a.busy}>{t('set.createKey')}</button>
      </form>
      {secret && <Notice>{t('set.keyOnce')} <code className="wrap" data-testid="new-key">{secret}</code> <CopyButton value={secret} /></Notice>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

interface User { id: string; email: string; role: string; created_at: number; disabled_at: number | null; last_login_at: number | null }

function UsersCard() {
  const { t, date } = useI18n();
  const me = useSession();
  const [n, setN] = useState(0);
  const s = useLoad(() => api<{ items: User[] }>('GET', '/v1/users'), [n]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [shown, setShown] = useState('');
  const a = useAction();
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const u = await a.run(() => api<User & { password?: string }>('POST', '/v1/users', { email, role }));
    if (u) { setShown(t('set.userPassword', { email: u.email, password: u.password ?? '' })); setEmail(''); setN((x) => x + 1); }
  };
  const patch = (id: string, body: Record<string, unknown>) => a.run(async () => { await api('PATCH', `/v1/users/${id}`, body); setN((x) => x + 1); });
  const reset = async (u: User) => {
    const pw = randomPassword();
    if (await a.run(async () => { await api('PATCH', `/v1/users/${u.id}`, { password: pw }); return true; })) setShown(t('set.userPassword', { email: u.email, password: pw }));
  };
  return (
    <Card title={t('set.users')} testid="users">
      <Loaded state={s}>{(d) => (
        <table>
          <thead><tr><th>{t('login.email')}</th><th>{t('set.role')}</th><th>{t('set.lastLogin')}</th><th>{t('status')}</th><th>{t('actions')}</th></tr></thead>
          <tbody>{d.items.map((u) => (
            <tr key={u.id}>
              <td>{u.email}</td>
              <td>
                <label className="sr-only" htmlFor={`role-${u.id}`}>{t('set.role')} {u.email}</label>
                <select id={`role-${u.id}`} value={u.role} onChange={(e) => patch(u.id, { role: e.target.value })} disabled={u.id === me.user.id}>
                  {['admin', 'editor', 'viewer'].map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
                </select>
              </td>
              <td>{date(u.last_login_at)}</td>
              <td>{u.disabled_at ? <Badge value="disabled" /> : <Badge value="active" />}</td>
              <td className="row">
                {u.id !== me.user.id && <button type="button" className="small" onClick={() => patch(u.id, { disabled: !u.disabled_at })}>{u.disabled_at ? t('set.enable') : t('set.disable')}</button>}
                <button type="button" className="small" onClick={() => reset(u)}>{t('set.resetPassword')}</button>
              </td>
            </tr>
          ))}</tbody>
        </table>
      )}</Loaded>
      <form onSubmit={add} className="row">
        <Field label={t('login.email')} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Select label={t('set.role')} value={role} onChange={(e) => setRole(e.target.value)}>
          {['viewer', 'editor', 'admin'].map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
        </Select>
        <button type="submit" className="primary" disabled={a.busy}>{t('set.addUser')}</button>
      </form>
      {shown && <Notice>{shown}</Notice>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

function randomPassword(): string {
  const b = new Uint8Array(15);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}
