import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { color, lastDays, LineChart } from '../charts';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { Badge, Card, ErrorBox, Loaded, Notice, Page, TextArea, useAction, useLoad } from '../ui';

/** GET /v1/compliance/volume (issue 6): rolling 24 h and daily counts per organisational domain × provider. */
interface Volume {
  as_of: number; bulk_threshold: number; bulk_alert_at: number;
  rolling: Array<{ org_domain: string; provider: string; rolling_24h: number; this_hour: number }>;
  daily: Array<{ org_domain: string; provider: string; day: string; count: number }>;
}
/** GET /v1/compliance/spam-rate: complaints ÷ delivered per sending domain and day, and paused streams. */
interface SpamRate {
  warn_at: number; pause_at: number; min_delivered: number;
  days: Array<{ domain_id: string; day: string; delivered: number; complaints: number; rate: number; level: string }>;
  streams: Array<{ id: number; domain_id: string; kind: string; data: Record<string, unknown>; created_at: number; resumed_at: number | null; resumed_by: string | null; resume_note: string | null; active: boolean }>;
}
type Domains = Array<{ id: string; name: string }>;
const domainsOf = () => api<{ items: Domains }>('GET', '/v1/domains').then((d) => d.items);
const pct = (v: number) => `${(v * 100).toFixed(v >= 0.01 ? 1 : 2)}%`;

/** Volume today and over 30 days per provider group. */
export function VolumeCard() {
  const { t, num } = useI18n();
  const s = useLoad(() => api<Volume>('GET', '/v1/compliance/volume?days=30'), []);
  return (
    <Card title={t('dash.volume')} testid="card-volume">
      <Loaded state={s}>{(v) => {
        const days = lastDays(30, v.as_of);
        const providers = [...new Set([...v.daily.map((r) => r.provider), ...v.rolling.map((r) => r.provider)])].sort();
        const series = providers.map((p, i) => ({ name: p, color: color(i), values: days.map((day) => v.daily.filter((r) => r.provider === p && r.day === day).reduce((a, r) => a + r.count, 0)) }));
        const today = (p: string) => v.rolling.filter((r) => r.provider === p).reduce((a, r) => a + r.rolling_24h, 0);
        return (
          <>
            <dl className="figures" data-testid="volume-today">
              {providers.map((p) => <div key={p}><dt>{p} · {t('vol.last24h')}</dt><dd>{num(today(p))}</dd></div>)}
              {!providers.length && <div><dt>{t('vol.last24h')}</dt><dd>0</dd></div>}
            </dl>
            <LineChart title={t('dash.volume')} labels={days} testid="chart-volume" format={(x) => num(x)}
              series={series.length ? series : [{ name: t('dash.sent'), values: days.map(() => 0), color: color(0) }]} />
          </>
        );
      }}</Loaded>
    </Card>
  );
}

/** Spam rate per domain and day with the 0.1 % (warning) and 0.3 % (pause) lines (R-CMPL-1/2). */
export function SpamRateCard() {
  const { t } = useI18n();
  const s = useLoad(async () => ({ r: await api<SpamRate>('GET', '/v1/compliance/spam-rate?days=30'), domains: await domainsOf() }), []);
  return (
    <Card title={t('dash.spamRate')} testid="card-spam-rate">
      <Loaded state={s}>{({ r, domains }) => {
        const days = lastDays(30);
        const ids = [...new Set(r.days.map((d) => d.domain_id))];
        const name = (id: string) => domains.find((d) => d.id === id)?.name ?? id;
        const series = (ids.length ? ids : ['']).map((id, i) => ({
          name: id ? name(id) : t('dash.all'), color: color(i), values: days.map((day) => r.days.find((x) => x.domain_id === id && x.day === day)?.rate ?? 0),
        }));
        return (
          <>
            <LineChart title={t('dash.spamRate')} labels={days} series={series} testid="chart-spam-rate" format={pct}
              thresholds={[{ y: r.warn_at, label: `${pct(r.warn_at)} ${t('spam.warn')}`, color: '#d97706' }, { y: r.pause_at, label: `${pct(r.pause_at)} ${t('spam.pause')}`, color: '#dc2626' }]} />
            <p className="muted">{t('spam.minDelivered', { n: r.min_delivered })}</p>
          </>
        );
      }}</Loaded>
    </Card>
  );
}

/** Bulk-sender status per organisational domain and provider: permanent once reached (R-SCOPE-1). */
export function BulkSenderCard() {
  const { t, date, num } = useI18n();
  const s = useLoad(async () => ({
    flags: (await api<{ items: Array<{ org_domain: string; provider: string; since: number }> }>('GET', '/v1/compliance/bulk-senders')).items,
    volume: await api<Volume>('GET', '/v1/compliance/volume?days=1'),
  }), []);
  return (
    <Card title={t('dash.bulkSenders')} testid="card-bulk">
      <Loaded state={s}>{({ flags, volume }) => {
        const keys = new Map<string, { org_domain: string; provider: string }>();
        for (const r of [...flags, ...volume.rolling]) keys.set(`${r.org_domain}|${r.provider}`, { org_domain: r.org_domain, provider: r.provider });
        if (!keys.size) return <p className="muted">{t('dash.noBulk')}</p>;
        return (
          <table>
            <thead><tr><th>{t('domain')}</th><th>{t('provider')}</th><th>{t('vol.last24h')}</th><th>{t('status')}</th></tr></thead>
            <tbody>{[...keys.values()].map((k) => {
              const flag = flags.find((f) => f.org_domain === k.org_domain && f.provider === k.provider);
              const n = volume.rolling.find((r) => r.org_domain === k.org_domain && r.provider === k.provider)?.rolling_24h ?? 0;
              return (
                <tr key={`${k.org_domain}|${k.provider}`}><td>{k.org_domain}</td><td>{k.provider}</td><td>{num(n)} / {num(volume.bulk_threshold)}</td>
                  <td>{flag ? <><Badge value="bulk" /> {t('dash.since')} {date(flag.since)}</> : n >= volume.bulk_alert_at ? <Badge value="warn" /> : <Badge value="ok" />}</td></tr>
              );
            })}</tbody>
          </table>
        );
      }}</Loaded>
    </Card>
  );
}

/** Subscription streams paused by the spam-rate monitor; a person resumes them with a note (R-CMPL-1). */
export function PausedStreams() {
  const { t, date } = useI18n();
  const { canWrite } = useSession();
  const [n, setN] = useState(0);
  const s = useLoad(async () => ({ r: await api<SpamRate>('GET', '/v1/compliance/spam-rate?days=1'), domains: await domainsOf() }), [n]);
  const [note, setNote] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const a = useAction();
  const resume = (e: FormEvent) => {
    e.preventDefault();
    a.run(async () => { await api('POST', `/v1/compliance/streams/${open}/resume`, { note }); setOpen(null); setNote(''); setN((x) => x + 1); });
  };
  if (s.error) return null;
  const active = s.data?.r.streams.filter((x) => x.active) ?? [];
  if (!active.length) return null;
  return (
    <>
      <ul className="plain" data-testid="paused-streams">{active.map((x) => (
        <li key={x.id}><b>{s.data!.domains.find((d) => d.id === x.domain_id)?.name ?? x.domain_id}</b> · {t('spam.pausedStream')} — {x.kind}
          {typeof x.data.rate === 'number' ? ` ${pct(x.data.rate)}` : ''} {x.data.rule ? <code>{String(x.data.rule)}</code> : null} <small className="muted">{date(x.created_at)}</small>
          {canWrite && <button type="button" className="small" onClick={() => setOpen(x.domain_id)}>{t('cmp.resume')}</button>}</li>
      ))}</ul>
      {open && (
        <form onSubmit={resume} className="inline-form">
          <TextArea label={t('spam.resumeNote')} required minLength={3} rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
          <button type="submit" className="primary" disabled={a.busy}>{t('cmp.resume')}</button> <button type="button" onClick={() => setOpen(null)}>{t('cancel')}</button>
        </form>
      )}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </>
  );
}

/** Compliance: volume, spam rate, bulk senders, warm-up and the message linter. */
export function CompliancePage() {
  const { t } = useI18n();
  return (
    <Page title={t('nav.compliance')}>
      <div className="grid">
        <VolumeCard />
        <SpamRateCard />
        <BulkSenderCard />
        <WarmupCard />
      </div>
      <LintCard />
    </Page>
  );
}

function WarmupCard() {
  const { t, num, date } = useI18n();
  const s = useLoad(() => api<{ domains: Array<{ domain_id: string; domain: string; test_domain: boolean; started_at: number | null; day: number | null; daily_cap: number | null; sent_24h: number; remaining: number | null; warm: boolean }> }>('GET', '/v1/compliance/warmup'), []);
  return (
    <Card title={t('warm.title')} testid="card-warmup">
      <Loaded state={s}>{(w) => w.domains.length ? (
        <table>
          <thead><tr><th>{t('domain')}</th><th>{t('warm.started')}</th><th>{t('warm.day')}</th><th>{t('vol.last24h')}</th><th>{t('warm.cap')}</th></tr></thead>
          <tbody>{w.domains.map((d) => (
            <tr key={d.domain_id}><td>{d.domain}{d.test_domain ? ` (${t('dom.testMode')})` : ''}</td><td>{date(d.started_at)}</td><td>{d.day ?? '—'}</td><td>{num(d.sent_24h)}</td>
              <td>{d.daily_cap === null ? <Badge value="ok" /> : `${num(d.daily_cap)} (${t('warm.remaining')} ${num(d.remaining ?? 0)})`}</td></tr>
          ))}</tbody>
        </table>
      ) : <p className="muted">{t('dom.none')}</p>}</Loaded>
    </Card>
  );
}

/** One finding of a lint or a domain check. */
export interface Finding { id: string; rule: string; severity: string; message: string; fix?: { type: string; name: string; value: string; note?: string } | null }

/** Findings with their rule ids and fixes. */
export function Findings({ items }: { items: Finding[] }) {
  const { t } = useI18n();
  const order = ['error', 'warning', 'info', 'pass'];
  return (
    <table data-testid="findings">
      <thead><tr><th>{t('rule')}</th><th>{t('status')}</th><th>{t('dom.finding')}</th><th>{t('dom.fix')}</th></tr></thead>
      <tbody>{[...items].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity)).map((f, i) => (
        <tr key={`${f.id}${i}`}><td><code>{f.rule}</code><br /><small className="muted">{f.id}</small></td><td><Badge value={f.severity} /></td><td>{f.message}</td>
          <td>{f.fix ? <><code className="wrap">{f.fix.type} {f.fix.name} {f.fix.value}</code>{f.fix.note ? <small> {f.fix.note}</small> : null}</> : ''}</td></tr>
      ))}</tbody>
    </table>
  );
}

/** Lints a message pasted in (POST /v1/lint). */
export function LintCard({ initial = '' }: { initial?: string }) {
  const { t } = useI18n();
  const [raw, setRaw] = useState(initial);
  const [result, setResult] = useState<{ ok: boolean; category: string; errors: number; warnings: number; findings: Finding[] } | null>(null);
  const a = useAction();
  const submit = (e: FormEvent) => { e.preventDefault(); a.run(async () => setResult(await api('POST', '/v1/lint', { message: raw }))); };
  return (
    <Card title={t('lint.title')} testid="card-lint">
      <form onSubmit={submit}>
        <TextArea label={t('lint.raw')} rows={8} value={raw} onChange={(e) => setRaw(e.target.value)} className="mono" />
        <button type="submit" disabled={a.busy || !raw}>{t('lint.run')}</button>
      </form>
      {a.error ? <ErrorBox error={a.error} /> : null}
      {result && (
        <>
          <Notice kind={result.ok ? 'ok' : 'warn'}>{t('lint.summary', { category: t(`cat.${result.category}`), errors: result.errors, warnings: result.warnings })}</Notice>
          <Findings items={result.findings} />
        </>
      )}
    </Card>
  );
}

/** The stored check of a domain with rule ids and fixes; "check now" re-runs it (GET /v1/domains/:id/check). */
export function DomainCheckCard({ id, onChecked }: { id: string; onChecked?: () => void }) {
  const { t, date } = useI18n();
  const [refresh, setRefresh] = useState(0);
  const s = useLoad(async () => {
    const r = await api<{ status: string; ok: boolean; checked_at: number; gates: { dkim: boolean | null; dmarc: boolean | null }; findings: Finding[] }>(
      'GET', `/v1/domains/${id}/check${qs({ refresh: refresh ? '1' : undefined })}`);
    onChecked?.();
    return r;
  }, [id, refresh]);
  return (
    <Card title={t('dom.checks')} testid="card-domain-check">
      <Loaded state={s}>{(c) => (
        <>
          <p>
            <Badge value={c.status} /> {t('dom.checkedAt')}: {date(c.checked_at)} · DKIM {c.gates.dkim === null ? '?' : c.gates.dkim ? '✓' : '✗'} · DMARC {c.gates.dmarc === null ? '?' : c.gates.dmarc ? '✓' : '✗'}
            {' '}<button type="button" onClick={() => setRefresh((x) => x + 1)} disabled={s.loading} data-testid="run-check">{t('dom.runCheck')}</button>
          </p>
          <Findings items={c.findings} />
        </>
      )}</Loaded>
    </Card>
  );
}

