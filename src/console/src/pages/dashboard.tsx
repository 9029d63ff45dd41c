import { api } from '../api';
import { BarChart, color, lastDays, LineChart } from '../charts';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { Badge, Card, Loaded, Page, useLoad } from '../ui';
import { BulkSenderCard, PausedStreams, SpamRateCard, VolumeCard } from './compliance';
import { BounceChartCard, HoldsList } from './bounces';

/** Dashboard (issue 8 item 2): volume, bulk-sender status, spam rate, bounces, unsubscribes, domain health, paused streams. */
export function DashboardPage() {
  const { t } = useI18n();
  return (
    <Page title={t('nav.dashboard')}>
      <div className="grid">
        <VolumeCard />
        <SpamRateCard />
        <BulkSenderCard />
        <BounceChartCard />
        <UnsubscribeCard />
        <SuppressionReasonsCard />
        <DomainHealthCard />
        <PausedCard />
      </div>
    </Page>
  );
}

function UnsubscribeCard() {
  const { t } = useI18n();
  const s = useLoad(() => api('GET', '/v1/suppressions/stats?days=30'), []);
  return (
    <Card title={t('dash.unsubscribes')} testid="card-unsubscribes">
      <Loaded state={s}>{(d: { per_day: Record<string, Record<string, number>>; skipped_after_unsubscribe: { count: number } }) => {
        const days = lastDays(30);
        const values = days.map((day) => Object.values(d.per_day[day] ?? {}).reduce((a, b) => a + b, 0));
        return (
          <>
            <LineChart title={t('dash.unsubscribes')} labels={days} series={[{ name: t('dash.unsubscribesPerDay'), values, color: color(1) }]} testid="chart-unsubscribes" />
            <p className="muted">{t('dash.skippedAfterUnsub', { n: d.skipped_after_unsubscribe.count })}</p>
          </>
        );
      }}</Loaded>
    </Card>
  );
}

function SuppressionReasonsCard() {
  const { t, num } = useI18n();
  const s = useLoad(() => api<Record<string, number>>('GET', '/v1/suppressions/counts'), []);
  return (
    <Card title={t('dash.suppressionReasons')} testid="card-suppressions">
      <Loaded state={s}>{(d) => (
        <BarChart title={t('dash.suppressionReasons')} testid="chart-suppressions" format={(v) => num(v)}
          bars={Object.entries(d).map(([reason, n]) => ({ label: t(`reason.${reason}`), value: n }))} />
      )}</Loaded>
    </Card>
  );
}

function DomainHealthCard() {
  const { t, date } = useI18n();
  const s = useLoad(() => api<{ items: Array<{ id: string; name: string; status: string; test_mode: boolean; checked_at: number | null }> }>('GET', '/v1/domains'), []);
  return (
    <Card title={t('dash.domainHealth')} testid="card-domains">
      <Loaded state={s}>{(d) => d.items.length ? (
        <table>
          <thead><tr><th>{t('domain')}</th><th>{t('status')}</th><th>{t('dom.checkedAt')}</th></tr></thead>
          <tbody>{d.items.map((x) => (
            <tr key={x.id}><td><Link to={`/domains/${x.id}`}>{x.name}</Link>{x.test_mode ? ` (${t('dom.testMode')})` : ''}</td><td><Badge value={x.status} /></td><td>{date(x.checked_at)}</td></tr>
          ))}</tbody>
        </table>
      ) : <p className="muted">{t('dom.none')} <Link to="/domains">{t('dom.add')}</Link></p>}</Loaded>
    </Card>
  );
}

function PausedCard() {
  const { t } = useI18n();
  const s = useLoad(async () => {
    const c = await api<{ items: Array<{ id: string; name: string; status: string }> }>('GET', '/v1/campaigns?limit=200');
    const holds = await api<{ items: unknown[] }>('GET', '/v1/stream-holds').then((h) => h.items.length, () => 0);
    const streams = await api<{ streams: Array<{ active: boolean }> }>('GET', '/v1/compliance/spam-rate?days=1').then((r) => r.streams.filter((x) => x.active).length, () => 0);
    return { paused: c.items.filter((x) => x.status === 'paused'), others: holds + streams };
  }, []);
  return (
    <Card title={t('dash.paused')} testid="card-paused">
      <Loaded state={s}>{(d) => (
        <>
          {!d.paused.length && !d.others && <p className="muted">{t('dash.nonePaused')}</p>}
          <ul className="plain">{d.paused.map((c) => <li key={c.id}><Link to={`/campaigns/${c.id}`}>{c.name}</Link> — {t('dash.pausedByUser')}</li>)}</ul>
          <PausedStreams />
          <HoldsList onChange={s.reload} />
        </>
      )}</Loaded>
    </Card>
  );
}
