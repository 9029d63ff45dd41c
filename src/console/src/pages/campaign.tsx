import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { useSession } from '../session';
import { Badge, Card, ErrorBox, Field, Loaded, Notice, Page, ProgressBar, useAction, useLoad } from '../ui';
import type { Campaign } from './campaigns';

interface Progress {
  id: string; status: string; planned: number; planning_done: boolean; sent: number; deferred: number; bounced: number; failed: number;
  queued: number; paused: number; skipped: number; skipped_by_reason: Record<string, number>;
}
const FINAL = ['sent', 'cancelled'];

/** Share of the campaign that is finished (sent, bounced, failed or skipped). */
export function doneFraction(p: Progress): number {
  if (p.status === 'sent') return 1;
  const done = p.sent + p.bounced + p.failed + p.skipped;
  const total = Math.max(p.planned, done + p.queued + p.deferred + p.paused);
  return total ? done / total : 0;
}

/** One campaign: preview, test send, schedule, live progress, pause/resume/cancel, results and downloads. */
export function CampaignPage({ id }: { id: string }) {
  const { t, date } = useI18n();
  const { canWrite } = useSession();
  const [n, setN] = useState(0);
  const c = useLoad(() => api<Campaign>('GET', `/v1/campaigns/${id}`), [id, n]);
  const a = useAction();
  const act = (action: string, body?: unknown) => a.run(async () => { await api('POST', `/v1/campaigns/${id}/${action}`, body ?? {}); setN((x) => x + 1); });
  return (
    <Page title={c.data ? c.data.name : t('campaign')}>
      <Loaded state={c}>{(cmp) => (
        <>
          <Card title={t('cmp.overview')}>
            <dl className="kv">
              <div><dt>{t('status')}</dt><dd data-testid="campaign-status"><Badge value={cmp.status} /></dd></div>
              <div><dt>{t('cmp.subject')}</dt><dd>{cmp.subject}</dd></div>
              <div><dt>{t('cmp.from')}</dt><dd>{cmp.from}</dd></div>
              <div><dt>{t('cmp.scheduledAt')}</dt><dd>{date(cmp.scheduled_at)}</dd></div>
              <div><dt>{t('cmp.startedAt')}</dt><dd>{date(cmp.started_at)}</dd></div>
              <div><dt>{t('cmp.finishedAt')}</dt><dd>{date(cmp.finished_at)}</dd></div>
            </dl>
            {canWrite && (
              <div className="row">
                {['scheduled', 'planning', 'running'].includes(cmp.status) && <button type="button" onClick={() => act('pause')} disabled={a.busy}>{t('cmp.pause')}</button>}
                {cmp.status === 'paused' && <button type="button" onClick={() => act('resume')} disabled={a.busy}>{t('cmp.resume')}</button>}
                {!FINAL.includes(cmp.status) && <button type="button" className="danger" disabled={a.busy}
                  onClick={() => { if (confirm(t('cmp.cancelConfirm'))) act('cancel'); }}>{t('cmp.cancel')}</button>}
              </div>
            )}
            {a.error ? <ErrorBox error={a.error} /> : null}
          </Card>
          {cmp.status !== 'draft' && <ProgressCard id={id} status={cmp.status} onStatus={(s) => { if (s !== cmp.status) setN((x) => x + 1); }} />}
          {canWrite && ['draft', 'scheduled'].includes(cmp.status) && <ScheduleCard onSchedule={(at) => act('schedule', { at })} busy={a.busy} />}
          <PreviewCard id={id} />
          {canWrite && <TestSendCard id={id} />}
        </>
      )}</Loaded>
    </Page>
  );
}

function ScheduleCard({ onSchedule, busy }: { onSchedule: (at: number | null) => void; busy: boolean }) {
  const { t } = useI18n();
  const [when, setWhen] = useState('');
  const submit = (e: FormEvent) => { e.preventDefault(); onSchedule(when ? new Date(when).getTime() : null); };
  return (
    <Card title={t('cmp.schedule')}>
      <form onSubmit={submit} className="row">
        <Field label={t('cmp.when')} type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} hint={t('cmp.whenHint')} />
        <button type="submit" className="primary" disabled={busy} data-testid="cmp-schedule">{when ? t('cmp.scheduleAt') : t('cmp.sendNow')}</button>
      </form>
    </Card>
  );
}

function ProgressCard({ id, status, onStatus }: { id: string; status: string; onStatus: (s: string) => void }) {
  const { t, num, date } = useI18n();
  const [p, setP] = useState<Progress | null>(null);
  const [held, setHeld] = useState<Record<string, { count: number; next_attempt_at: number }>>({});
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        const r = await api<Progress>('GET', `/v1/campaigns/${id}/progress`);
        if (stop) return;
        setP(r); setError(null); onStatus(r.status);
        setHeld(r.queued ? (await api<{ reasons: typeof held }>('GET', `/v1/campaigns/${id}/held`).catch(() => ({ reasons: {} }))).reasons : {});
        if (FINAL.includes(r.status) && r.queued === 0) return;
      } catch (e) { if (!stop) setError(e); }
      timer = setTimeout(tick, 1000);
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, status]);
  return (
    <Card title={t('cmp.progress')} testid="campaign-progress-card">
      {error ? <ErrorBox error={error} /> : null}
      {p && (
        <>
          <ProgressBar value={doneFraction(p)} label={t('cmp.progress')} testid="campaign-progress" />
          <dl className="figures" data-testid="campaign-results">
            {(['planned', 'sent', 'queued', 'deferred', 'bounced', 'failed', 'paused', 'skipped'] as const).map((k) => (
              <div key={k}><dt>{t(`cmp.r.${k}`)}</dt><dd data-testid={`r-${k}`}>{num(p[k])}</dd></div>
            ))}
          </dl>
          {Object.keys(held).length > 0 && (
            <table data-testid="held-reasons">
              <caption>{t('cmp.heldReasons')}</caption>
              <thead><tr><th>{t('imp.reason')}</th><th>{t('count')}</th><th>{t('cmp.nextAttempt')}</th></tr></thead>
              <tbody>{Object.entries(held).map(([r, v]) => <tr key={r}><td>{r}</td><td>{num(v.count)}</td><td>{date(v.next_attempt_at)}</td></tr>)}</tbody>
            </table>
          )}
          {Object.keys(p.skipped_by_reason).length > 0 && (
            <table>
              <caption>{t('cmp.skippedByReason')}</caption>
              <thead><tr><th>{t('imp.reason')}</th><th>{t('count')}</th></tr></thead>
              <tbody>{Object.entries(p.skipped_by_reason).map(([r, v]) => <tr key={r}><td>{r}</td><td>{num(v)}</td></tr>)}</tbody>
            </table>
          )}
          <div className="row">
            <a className="button" href={`/v1/campaigns/${id}/report.csv`} download={`${id}.csv`}>{t('cmp.downloadReport')}</a>
            <Link to={`/messages?campaign_id=${id}`}>{t('cmp.messages')}</Link>
          </div>
        </>
      )}
    </Card>
  );
}

interface Preview { to: string; subject: string; html: string | null; text: string; headers: Array<{ name: string; value: string }> }

function PreviewCard({ id }: { id: string }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [q, setQ] = useState('');
  const s = useLoad(() => api<Preview>('GET', `/v1/campaigns/${id}/preview${q ? `?email=${encodeURIComponent(q)}` : ''}`), [id, q]);
  const [tab, setTab] = useState<'html' | 'text' | 'headers'>('html');
  return (
    <Card title={t('cmp.preview')} testid="campaign-preview">
      <form className="row" onSubmit={(e) => { e.preventDefault(); setQ(email); }}>
        <Field label={t('cmp.previewAs')} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit">{t('cmp.render')}</button>
      </form>
      <Loaded state={s}>{(p) => (
        <>
          <p><b>{t('cmp.subject')}:</b> {p.subject}</p>
          <div role="tablist" aria-label={t('cmp.preview')} className="tabs">
            {(['html', 'text', 'headers'] as const).map((k) => (
              <button key={k} type="button" role="tab" aria-selected={tab === k} onClick={() => setTab(k)}>{t(`cmp.tab.${k}`)}</button>
            ))}
          </div>
          <div role="tabpanel">
            {tab === 'html' && (p.html ? <iframe title={t('cmp.tab.html')} sandbox="" srcDoc={p.html} className="preview" /> : <p className="muted">{t('cmp.noHtml')}</p>)}
            {tab === 'text' && <pre className="preview-text">{p.text}</pre>}
            {tab === 'headers' && (
              <>
                <table className="headers"><tbody>{p.headers.map((h, i) => <tr key={i}><th scope="row">{h.name}</th><td><code>{h.value}</code></td></tr>)}</tbody></table>
                <p className="muted">{t('cmp.headersNote')}</p>
              </>
            )}
          </div>
        </>
      )}</Loaded>
    </Card>
  );
}

function TestSendCard({ id }: { id: string }) {
  const { t } = useI18n();
  const [to, setTo] = useState('');
  const [result, setResult] = useState<Array<{ id: number; to: string; status: string; reason: string | null }> | null>(null);
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await a.run(() => api<{ messages: Array<{ id: number; to: string; status: string; reason: string | null }> }>('POST', `/v1/campaigns/${id}/test`, { to: to.split(/[\s,;]+/).filter(Boolean) }));
    if (r) setResult(r.messages);
  };
  return (
    <Card title={t('cmp.test')}>
      <form onSubmit={submit} className="row">
        <Field label={t('cmp.testTo')} required value={to} onChange={(e) => setTo(e.target.value)} data-testid="cmp-test-to" hint={t('cmp.testHint')} />
        <button type="submit" disabled={a.busy} data-testid="cmp-test-send">{t('cmp.sendTest')}</button>
      </form>
      {a.error ? <ErrorBox error={a.error} /> : null}
      {result && (
        <Notice>
          {result.map((m) => <span key={m.id} data-testid="test-result">{m.to}: <Link to={`/messages/${m.id}`}>{t(`status.${m.status}`)}{m.reason ? ` (${m.reason})` : ''}</Link> </span>)}
        </Notice>
      )}
    </Card>
  );
}
