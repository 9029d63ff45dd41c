import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { LangSwitch, useI18n } from '../i18n';
import type { Session } from '../session';
import { Field } from '../ui';

/** Login with e-mail and password; a session cookie is set by the server. */
export function LoginPage({ onLogin }: { onLogin: (s: Session) => void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true); setError('');
    try {
      onLogin(await api<Session>('POST', '/v1/session', { email, password }));
    } catch (err) {
      const code = err instanceof ApiError ? err.code : '';
      setError(code === 'E_RATE_LIMITED' ? t('login.rateLimited') : code === 'E_LOGIN_FAILED' ? t('login.failed') : (err as Error).message);
    } finally { setBusy(false); }
  };
  return (
    <main className="login" id="main">
      <form onSubmit={submit} aria-labelledby="login-title" className="card">
        <h1 id="login-title">{t('login.title')}</h1>
        <Field label={t('login.email')} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        <Field label={t('login.password')} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={busy}>{t('login.submit')}</button>
        <LangSwitch />
      </form>
    </main>
  );
}
