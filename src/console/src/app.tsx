import { useEffect, useState, type ReactNode } from 'react';
import { api, onSessionLost, setCsrf } from './api';
import { LangSwitch, useI18n } from './i18n';
import { Link, match, useRoute } from './router';
import { SessionCtx, type Session } from './session';
import { LoginPage } from './pages/login';
import { DashboardPage } from './pages/dashboard';
import { SuppressionsPage } from './pages/suppressions';
import { ListPage, ListsPage } from './pages/lists';
import { ContactPage } from './pages/contact';
import { CampaignNewPage, CampaignsPage } from './pages/campaigns';
import { CampaignPage } from './pages/campaign';
import { DomainPage, DomainsPage } from './pages/domains';
import { MessagePage, MessagesPage } from './pages/messages';
import { BouncesPage } from './pages/bounces';
import { DmarcPage } from './pages/dmarc';
import { CompliancePage } from './pages/compliance';
import { SettingsPage } from './pages/settings';
import { TemplatePage, TemplatesPage } from './pages/templates';

type Route = [pattern: string, render: (p: Record<string, string>) => ReactNode];
const ROUTES: Route[] = [
  ['/', () => <DashboardPage />],
  ['/suppressions', () => <SuppressionsPage />],
  ['/lists', () => <ListsPage />],
  ['/lists/:id', (p) => <ListPage id={p.id} />],
  ['/contacts/:id', (p) => <ContactPage id={p.id} />],
  ['/campaigns', () => <CampaignsPage />],
  ['/campaigns/new', () => <CampaignNewPage />],
  ['/campaigns/:id', (p) => <CampaignPage id={p.id} />],
  ['/templates', () => <TemplatesPage />],
  ['/templates/:id', (p) => <TemplatePage id={p.id} />],
  ['/domains', () => <DomainsPage />],
  ['/domains/:id', (p) => <DomainPage id={p.id} />],
  ['/messages', () => <MessagesPage />],
  ['/messages/:id', (p) => <MessagePage id={p.id} />],
  ['/bounces', () => <BouncesPage />],
  ['/compliance', () => <CompliancePage />],
  ['/dmarc', () => <DmarcPage />],
  ['/settings', () => <SettingsPage />],
];

const NAV: Array<[string, string]> = [
  ['/', 'nav.dashboard'], ['/campaigns', 'nav.campaigns'], ['/templates', 'nav.templates'], ['/lists', 'nav.lists'], ['/suppressions', 'nav.suppressions'],
  ['/messages', 'nav.messages'], ['/bounces', 'nav.bounces'], ['/domains', 'nav.domains'], ['/compliance', 'nav.compliance'],
  ['/dmarc', 'nav.dmarc'], ['/settings', 'nav.settings'],
];

/** The console: asks the API for the session, then shows the login or the screens. */
export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const { t } = useI18n();
  const route = useRoute();
  useEffect(() => {
    onSessionLost(() => setSession(null));
    api<Session>('GET', '/v1/session').then((s) => { setCsrf(s.csrf_token); setSession(s); }, () => setSession(null));
  }, []);
  if (session === undefined) return <p className="muted center" aria-busy="true">{t('loading')}</p>;
  if (!session) return <LoginPage onLogin={(s) => { setCsrf(s.csrf_token); setSession(s); }} />;
  const logout = async () => {
    await api('DELETE', '/v1/session').catch(() => undefined);
    setCsrf('');
    setSession(null);
  };
  let content: ReactNode = <p>{t('notFoundPage')}</p>;
  for (const [pattern, render] of ROUTES) {
    const p = match(pattern, route.path);
    if (p) { content = render(p); break; }
  }
  const active = (to: string) => (to === '/' ? route.path === '/' : route.path === to || route.path.startsWith(`${to}/`));
  return (
    <SessionCtx.Provider value={session}>
      <a className="skip" href="#main">{t('skipToContent')}</a>
      <div className="layout">
        <nav className="side" aria-label={t('nav.label')}>
          <div className="brand">tegami</div>
          <ul>
            {NAV.map(([to, key]) => (
              <li key={to}><Link to={to} aria-current={active(to) ? 'page' : undefined}>{t(key)}</Link></li>
            ))}
          </ul>
        </nav>
        <div className="main-col">
          <header className="top">
            <span className="account">{session.account.name}</span>
            <span className="user" data-testid="current-user">{session.user.email} · {t(`role.${session.user.role}`)}</span>
            <LangSwitch />
            <button type="button" onClick={logout}>{t('logout')}</button>
          </header>
          <main id="main" tabIndex={-1}>{content}</main>
        </div>
      </div>
    </SessionCtx.Provider>
  );
}
