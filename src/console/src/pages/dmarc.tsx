import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { BarChart } from '../charts';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { Badge, Card, CopyButton, ErrorBox, Field, Loaded, Notice, Page, Select, useAction, useLoad } from '../ui';

interface Report {
  id: string; org_name: string; email: string; report_id: string; policy_domain: string; date_begin: number; date_end: number;
  policy: Record<string, string>; record_count: number; message_count: number; pass_count: number; source: string; created_at: number;
}
interface Analysis {
  domain: string; from: number; to: number; reports: number; reporters: string[]; days: number; messages: number; pass: number; pass_share: number;
  by_class: Record<string, { sources: number; messages: number; pass: number }>;
  published_policy: Record<string, string> | null;
  sources: Array<{ ip: string; ptr: string | null; class: string; messages: number; pass: number; pass_share: number; dkim_aligned: number; spf_aligned: number; header_from: string[] }>;
  recommendation: { current: string; next: string | null; action: string; record: string | null; reasons: string[] };
}
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** DMARC: reports received, the analysis and policy recommendation per domain, the rua address. */
export function DmarcPage() {
  const { t, date, num } = useI18n();
  const { canWrite } = useSession();
  const domains = useLoad(() => api<{ items: Array<{ domain: string; reports: number; last_end: number }> }>('GET', '/v1/dmarc/domains'), []);
  const [domain, setDomain] = useState('');
  const [days, setDays] = useState('31');
  const [n, setN] = useState(0);
  const from = days === 'all' ? 0 : Date.now() - Number(days) * 86_400_000;
  const reports = useLoad(() => api<{ items: Report[] }>('GET', `/v1/dmarc/reports${qs({ domain, from, limit: 100 })}`), [domain, days, n]);
  const analysis = useLoad(() => (domain ? api<Analysis>('GET', `/v1/dmarc/analysis${qs({ domain, from })}`) : Promise.resolve(null)), [domain, days, n]);
  return (
    <Page title={t('nav.dmarc')}>
      <Card>
        <Loaded state={domains}>{(d) => (
          <div className="row">
            <Select label={t('domain')} value={domain} onChange={(e) => setDomain(e.target.value)} data-testid="dmarc-domain">
              <option value="">{t('all')}</option>
              {d.items.map((x) => <option key={x.domain} value={x.domain}>{x.domain} ({num(x.reports)})</option>)}
            </Select>
            <Select label={t('dmarc.period')} value={days} onChange={(e) => setDays(e.target.value)} data-testid="dmarc-days">
              {['31', '90', '365'].map((x) => <option key={x} value={x}>{t('dmarc.lastDays', { n: x })}</option>)}
              <option value="all">{t('dmarc.allTime')}</option>
            </Select>
          </div>
        )}</Loaded>
      </Card>
      {domain && (
        <Card title={t('dmarc.analysis')} testid="dmarc-analysis">
          <Loaded state={analysis}>{(a) => a && (
            <>
              <dl className="figures">
                <div><dt>{t('dmarc.messages')}</dt><dd>{num(a.messages)}</dd></div>
                <div><dt>{t('dmarc.pass')}</dt><dd>{pct(a.pass_share)}</dd></div>
                <div><dt>{t('dmarc.reportsN')}</dt><dd>{num(a.reports)}</dd></div>
                <div><dt>{t('dmarc.days')}</dt><dd>{num(a.days)}</dd></div>
                <div><dt>{t('dmarc.policy')}</dt><dd>{a.recommendation.current}</dd></div>
              </dl>
              <Notice kind={a.recommendation.action === 'fix' ? 'warn' : 'ok'}>
                <b>{t(`dmarc.action.${a.recommendation.action}`)}</b>{a.recommendation.next ? ` → p=${a.recommendation.next}` : ''}
                {a.recommendation.record && <> <code>{a.recommendation.record}</code> <CopyButton value={a.recommendation.record} label="DMARC" /></>}
              </Notice>
              <ul>{a.recommendation.reasons.map((r, i) => <li key={i}>{r}</li>)}</ul>
              <BarChart title={t('dmarc.byClass')} bars={Object.entries(a.by_class).map(([k, v]) => ({ label: t(`dmarc.class.${k}`), value: v.messages }))} format={(v) => num(v)} testid="chart-dmarc" />
              <table>
                <thead><tr><th>IP</th><th>PTR</th><th>{t('dmarc.class')}</th><th>{t('dmarc.messages')}</th><th>{t('dmarc.pass')}</th><th>DKIM</th><th>SPF</th></tr></thead>
                <tbody>{a.sources.map((x) => (
                  <tr key={x.ip}><td><code>{x.ip}</code></td><td>{x.ptr ?? '—'}</td><td><Badge value={x.class} /></td><td>{num(x.messages)}</td><td>{pct(x.pass_share)}</td>
                    <td>{num(x.dkim_aligned)}</td><td>{num(x.spf_aligned)}</td></tr>
                ))}</tbody>
              </table>
            </>
          )}</Loaded>
        </Card>
      )}
      <Card title={t('dmarc.reports')}>
        <Loaded state={reports}>{(d) => d.items.length ? (
          <table>
            <thead><tr><th>{t('dmarc.org')}</th><th>{t('domain')}</th><th>{t('dmarc.period')}</th><th>{t('dmarc.messages')}</th><th>{t('dmarc.pass')}</th><th>{t('dmarc.policy')}</th></tr></thead>
            <tbody>{d.items.map((r) => (
              <tr key={r.id}><td>{r.org_name || r.email}</td><td>{r.policy_domain}</td><td>{date(r.date_begin)} – {date(r.date_end)}</td>
                <td>{num(r.message_count)}</td><td>{num(r.pass_count)}</td><td>{r.policy?.p ?? '—'}</td></tr>
            ))}</tbody>
          </table>
        ) : <p className="muted">{t('dmarc.none')}</p>}</Loaded>
      </Card>
      {canWrite && <UploadCard onDone={() => { setN((x) => x + 1); domains.reload(); }} />}
      <AddressCard />
    </Page>
  );
}

function UploadCard({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [msg, setMsg] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const b64 = await new Promise<string>((resolve) => { const r = new FileReader(); r.onload = () => resolve(String(r.result).split(',')[1] ?? ''); r.readAsDataURL(file); });
    const r = await a.run(() => api<{ duplicate: boolean; reports: Array<{ org_name: string; policy_domain: string }> }>('POST', '/v1/dmarc/reports', { filename: file.name, content_base64: b64 }));
    if (r) { setMsg(r.duplicate ? t('dmarc.duplicate') : t('dmarc.stored', { n: r.reports.length })); onDone(); }
  };
  return (
    <Card title={t('dmarc.upload')}>
      <form onSubmit={submit} className="row">
        <Field label={t('dmarc.file')} type="file" accept=".xml,.gz,.zip,.eml" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        <button type="submit" className="primary" disabled={a.busy || !file}>{t('upload')}</button>
      </form>
      {msg && <Notice>{msg}</Notice>}
      {a.error ? <ErrorBox error={a.error} /> : null}
    </Card>
  );
}

function AddressCard() {
  const { t } = useI18n();
  const s = useLoad(() => api<{ address: string; domains: Array<{ domain: string; address: string; dmarc_record: { name: string; value: string } }> }>('GET', '/v1/dmarc/address'), []);
  return (
    <Card title={t('dmarc.rua')}>
      <Loaded state={s}>{(d) => (
        <table>
          <thead><tr><th>{t('domain')}</th><th>{t('dom.host')}</th><th>{t('dom.value')}</th></tr></thead>
          <tbody>{d.domains.map((x) => (
            <tr key={x.domain}><td>{x.domain}</td><td><code>{x.dmarc_record.name}</code></td><td><code className="wrap">{x.dmarc_record.value}</code> <CopyButton value={x.dmarc_record.value} label={x.dmarc_record.name} /></td></tr>
          ))}</tbody>
        </table>
      )}</Loaded>
    </Card>
  );
}
