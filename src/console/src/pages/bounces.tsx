import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { color, lastDays, LineChart } from '../charts';
import { useI18n } from '../i18n';
import { Link, useRoute } from '../router';
import { useSession } from '../session';
import { Badge, Card, ErrorBox, Field, Loaded, Page, Select, useAction, useLoad } from '../ui';

/** One row of the bounce and complaint log (GET /v1/bounces). */
interface BounceEvent {
  id: number; message_id: number | null; campaign_id: string | null; kind: string; source: string; address: string; status: string | null;
  class: string; action: string; rule_id: string | null; diagnostic: string | null; feedback_type: string | null; raw_id: number | null; created_at: number;
}
/** A held stream (sender-side bounce classes hold a domain's subscription stream, R-BNC-4). */
export interface StreamHold {
  id: number; domain_id: string; stream: string; reason: string; rule_id: string | null; detail: string | null; created_at: number; until: number | null; released_at: number | null;
}
const KINDS = ['bounce', 'complaint', 'autoreply', 'delay'];
const CLASSES = ['hard_bounce', 'soft_bounce', 'mailbox_full', 'sender_config', 'policy', 'rate_limited', 'content', 'network', 'unknown'];

/** Pages back through the log until `from` (the API pages newest first with `before`). */
async function eventsSince(from: number): Promise<BounceEvent[]> {
  const out: BounceEvent[] = [];
  let before: string | null = null;
  for (let i = 0; i < 20; i++) {
    const r: { items: BounceEvent[]; next_cursor: string | null } = await api('GET', `/v1/bounces${qs({ limit: 500, before })}`);
    out.push(...r.items.filter((e) => e.created_at >= from));
    if (!r.next_cursor || r.items.some((e) => e.created_at < from)) break;
    before = r.next_cursor;
  }
  return out;
}

/** Bounces and complaints per day over 30 days. */
export function BounceChartCard() {
  const { t } = useI18n();
  const s = useLoad(() => eventsSince(Date.now() - 30 * 86_400_000), []);
  return (
    <Card title={t('dash.bounces')} testid="card-bounces">
      <Loaded state={s}>{(rows) => {
        const days = lastDays(30);
        const per = (pred: (r: BounceEvent) => boolean) => days.map((day) => rows.filter((r) => pred(r) && new Date(r.created_at).toISOString().slice(0, 10) === day).length);
        return <LineChart title={t('dash.bounces')} labels={days} testid="chart-bounces" series={[
          { name: t('b.hard'), values: per((r) => r.kind === 'bounce' && r.class === 'hard_bounce'), color: color(4) },
          { name: t('b.soft'), values: per((r) => (r.kind === 'bounce' || r.kind === 'delay') && r.class !== 'hard_bounce'), color: color(1) },
          { name: t('b.complaints'), values: per((r) => r.kind === 'complaint'), color: color(3) },
        ]} />;
      }}</Loaded>
    </Card>
  );
}

/** Open stream holds with their reason and rule; writers may release them. */
export function HoldsList({ onChange }: { onChange?: () => void }) {
  const { t, date } = useI18n();
  const { canWrite } = useSession();
  const [n, setN] = useState(0);
  const s = useLoad(async () => {
    const [h, d] = await Promise.all([api<{ items: StreamHold[] }>('GET', '/v1/stream-holds'), api<{ items: Array<{ id: string; name: string }> }>('GET', '/v1/domains')]);
    return { holds: h.items, domains: d.items };
  }, [n]);
  const a = useAction();
  const release = (id: number) => a.run(async () => { await api('POST', `/v1/stream-holds/${id}/release`, {}); setN((x) => x + 1); onChange?.(); });
  return (
    <Loaded state={s}>{({ holds, domains }) => holds.length ? (
      <>
        <ul className="plain" data-testid="holds">{holds.map((h) => (
          <li key={h.id}>
            <b>{domains.find((d) => d.id === h.domain_id)?.name ?? h.domain_id}</b> · {h.stream} — {h.reason}{h.rule_id ? <> (<code>{h.rule_id}</code>)</> : null}
            {h.detail ? <small className="muted"> {h.detail}</small> : null} <small className="muted">{date(h.created_at)}{h.until ? ` → ${date(h.until)}` : ''}</small>
            {canWrite && <button type="button" className="small" onClick={() => release(h.id)} disabled={a.busy}>{t('b.release')}</button>}
          </li>
        ))}</ul>
        {a.error ? <ErrorBox error={a.error} /> : null}
      </>
    ) : null}</Loaded>
  );
}

/** The bounce and complaint log with each raw report. */
export function BouncesPage() {
  const { t, date } = useI18n();
  const { query } = useRoute();
  const [f, setF] = useState({ address: query.get('address') ?? '', kind: '', class: '' });
  const [q, setQ] = useState(f);
  const [pages, setPages] = useState<BounceEvent[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const s = useLoad(async () => {
    const r = await api<{ items: BounceEvent[]; next_cursor: string | null }>('GET', `/v1/bounces${qs({ ...q, limit: 100 })}`);
    setPages([r.items]); setNext(r.next_cursor);
    return r;
  }, [q]);
  const more = async () => {
    const r = await api<{ items: BounceEvent[]; next_cursor: string | null }>('GET', `/v1/bounces${qs({ ...q, limit: 100, before: next })}`);
    setPages([...pages, r.items]); setNext(r.next_cursor);
  };
  const [open, setOpen] = useState<number | null>(null);
  const submit = (e: FormEvent) => { e.preventDefault(); setQ(f); };
  const rows = pages.flat();
  return (
    <Page title={t('nav.bounces')}>
      <Card title={t('dash.paused')}><HoldsList /></Card>
      <Card>
        <form className="filters" onSubmit={submit} role="search">
          <Field label={t('sup.address')} type="email" value={f.address} onChange={(e) => setF({ ...f, address: e.target.value })} />
          <Select label={t('b.kind')} value={f.kind} onChange={(e) => setF({ ...f, kind: e.target.value })}>
            <option value="">{t('all')}</option>{KINDS.map((k) => <option key={k} value={k}>{t(`b.kind.${k}`)}</option>)}
          </Select>
          <Select label={t('b.class')} value={f.class} onChange={(e) => setF({ ...f, class: e.target.value })}>
            <option value="">{t('all')}</option>{CLASSES.map((k) => <option key={k} value={k}>{k}</option>)}
          </Select>
          <button type="submit" className="primary">{t('search')}</button>
        </form>
      </Card>
      <Card>
        <Loaded state={s}>{() => rows.length ? (
          <>
            <table>
              <thead><tr><th>{t('created')}</th><th>{t('b.kind')}</th><th>{t('msg.recipient')}</th><th>{t('b.class')}</th><th>{t('rule')}</th><th>{t('b.diagnostic')}</th><th>{t('msg.message')}</th><th /></tr></thead>
              <tbody>{rows.map((r) => [
                <tr key={r.id}>
                  <td>{date(r.created_at)}</td><td><Badge value={r.kind} /> <small className="muted">{r.source}</small></td><td>{r.address}</td>
                  <td>{r.class}{r.feedback_type ? ` (${r.feedback_type})` : ''}{r.status ? <> <code>{r.status}</code></> : null}</td>
                  <td>{r.rule_id ? <code>{r.rule_id}</code> : '—'}</td>
                  <td className="clip" title={r.diagnostic ?? ''}>{r.diagnostic ?? ''}</td>
                  <td>{r.message_id ? <Link to={`/messages/${r.message_id}`}>#{r.message_id}</Link> : '—'}</td>
                  <td>{r.raw_id ? <button type="button" className="small" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? null : r.id)}>{t('b.raw')}</button> : null}</td>
                </tr>,
                open === r.id && <tr key={`${r.id}-raw`}><td colSpan={8}><RawReport id={r.id} /></td></tr>,
              ])}</tbody>
            </table>
            {next && <button type="button" onClick={more}>{t('loadMore')}</button>}
          </>
        ) : <p className="muted">{t('b.none')}</p>}</Loaded>
      </Card>
    </Page>
  );
}

function RawReport({ id }: { id: number }) {
  const { t } = useI18n();
  const s = useLoad(() => api<string>('GET', `/v1/bounces/${id}/raw`), [id]);
  if (s.error) return <ErrorBox error={s.error} />;
  return (
    <>
      <pre className="raw" data-testid="bounce-raw">{s.data ?? ''}</pre>
      <a href={`/v1/bounces/${id}/raw`} download>{t('msg.downloadEml')}</a>
    </>
  );
}
