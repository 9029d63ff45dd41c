import { useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { useI18n } from '../i18n';
import { Link, navigate, useRoute } from '../router';
import { Badge, Card, ErrorBox, Field, Loaded, Notice, Page, Select, useAction, useLoad, usePaged } from '../ui';
import { Findings, type Finding } from './compliance';

interface Message {
  id: number; campaign_id: string | null; list_id: string | null; category: string; from: string; to: string; message_id: string;
  status: string; reason: string | null; attempts: number; next_attempt_at: number; last_reply: string | null; created_at: number; sent_at: number | null;
}
const STATUSES = ['queued', 'sending', 'sent', 'deferred', 'bounced', 'failed', 'skipped', 'paused'];

/** Message search by address, Message-ID, campaign and status. */
export function MessagesPage() {
  const { t, date } = useI18n();
  const { query } = useRoute();
  const init = { recipient: query.get('recipient') ?? '', message_id: query.get('message_id') ?? '', campaign_id: query.get('campaign_id') ?? '', status: query.get('status') ?? '' };
  const [f, setF] = useState(init);
  const key = qs(init);
  const p = usePaged<Message>((after) => `/v1/messages${qs({ ...init, limit: 100, after })}`, [key]);
  const submit = (e: FormEvent) => { e.preventDefault(); navigate(`/messages${qs(f)}`); };
  return (
    <Page title={t('nav.messages')}>
      <Card>
        <form className="filters" onSubmit={submit} role="search">
          <Field label={t('msg.recipient')} type="email" value={f.recipient} onChange={(e) => setF({ ...f, recipient: e.target.value })} />
          <Field label="Message-ID" value={f.message_id} onChange={(e) => setF({ ...f, message_id: e.target.value })} />
          <Field label={t('campaign')} value={f.campaign_id} onChange={(e) => setF({ ...f, campaign_id: e.target.value })} placeholder="cmp_…" />
          <Select label={t('status')} value={f.status} onChange={(e) => setF({ ...f, status: e.target.value })}>
            <option value="">{t('all')}</option>{STATUSES.map((x) => <option key={x} value={x}>{t(`status.${x}`)}</option>)}
          </Select>
          <button type="submit" className="primary">{t('search')}</button>
        </form>
      </Card>
      <Card>
        <Loaded state={p.state}>{() => p.rows.length ? (
          <>
          <table>
            <thead><tr><th>{t('created')}</th><th>{t('msg.recipient')}</th><th>{t('status')}</th><th>{t('msg.category')}</th><th>{t('campaign')}</th><th>{t('msg.lastReply')}</th></tr></thead>
            <tbody>{p.rows.map((m) => (
              <tr key={m.id}><td><Link to={`/messages/${m.id}`}>{date(m.created_at)}</Link></td><td>{m.to}</td><td><Badge value={m.status} />{m.reason ? ` ${m.reason}` : ''}</td>
                <td>{t(`cat.${m.category}`)}</td><td>{m.campaign_id ? <Link to={`/campaigns/${m.campaign_id}`}>{m.campaign_id}</Link> : '—'}</td><td className="clip">{m.last_reply ?? ''}</td></tr>
            ))}</tbody>
          </table>
          {p.more && <button type="button" onClick={p.more}>{t('loadMore')}</button>}
          </>
        ) : <p className="muted">{t('msg.none')}</p>}</Loaded>
      </Card>
    </Page>
  );
}

/** One message with its events timeline. */
export function MessagePage({ id }: { id: string }) {
  const { t, date } = useI18n();
  const s = useLoad(() => api<Message & { events: Array<{ id: number; type: string; at: number; data: Record<string, unknown> | null }> }>('GET', `/v1/messages/${id}`), [id]);
  return (
    <Page title={`${t('msg.message')} #${id}`}>
      <Loaded state={s}>{(m) => (
        <>
          <Card title={t('msg.summary')}>
            <dl className="kv">
              <div><dt>{t('status')}</dt><dd><Badge value={m.status} />{m.reason ? ` ${m.reason}` : ''}</dd></div>
              <div><dt>{t('cmp.from')}</dt><dd>{m.from}</dd></div>
              <div><dt>{t('msg.recipient')}</dt><dd>{m.to}</dd></div>
              <div><dt>Message-ID</dt><dd><code>{m.message_id}</code></dd></div>
              <div><dt>{t('msg.category')}</dt><dd>{t(`cat.${m.category}`)}</dd></div>
              <div><dt>{t('msg.attempts')}</dt><dd>{m.attempts}</dd></div>
              <div><dt>{t('msg.sentAt')}</dt><dd>{date(m.sent_at)}</dd></div>
              <div><dt>{t('msg.lastReply')}</dt><dd>{m.last_reply ?? '—'}</dd></div>
            </dl>
          </Card>
          <Card title={t('msg.timeline')} testid="events-timeline">
            <ol className="timeline">{m.events.map((e) => (
              <li key={e.id}><time>{date(e.at)}</time> <Badge value={e.type} />
                {e.data && <code className="wrap"> {Object.entries(e.data).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · ')}</code>}</li>
            ))}</ol>
          </Card>
          <CapturedCard messageId={m.id} rcpt={m.to} />
        </>
      )}</Loaded>
    </Page>
  );
}

/** With the capture transport, the bytes that were "sent": headers as a receiver sees them. */
function CapturedCard({ messageId, rcpt }: { messageId: number; rcpt: string }) {
  const { t } = useI18n();
  const s = useLoad(async () => {
    const page = await api<{ items: Array<{ id: number; message_id: number | null }> }>('GET', `/v1/captured${qs({ rcpt, limit: 500 })}`);
    const hit = page.items.find((c) => c.message_id === messageId);
    return hit ? api<{ id: number; headers: Array<{ name: string; value: string }> }>('GET', `/v1/captured/${hit.id}`) : null;
  }, [messageId]);
  const [lint, setLint] = useState<{ ok: boolean; category: string; errors: number; warnings: number; findings: Finding[] } | null>(null);
  const a = useAction();
  if (s.error) return <ErrorBox error={s.error} />;
  if (!s.data) return null;
  const id = s.data.id;
  // The exact bytes that were sent, checked against the sender rules (POST /v1/lint).
  const runLint = () => a.run(async () => {
    const res = await fetch(`/v1/captured/${id}/raw`, { credentials: 'same-origin' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    setLint(await api('POST', '/v1/lint', { message: btoa(bin), encoding: 'base64' }));
  });
  return (
    <Card title={t('msg.captured')} testid="captured">
      <table className="headers"><tbody>{s.data.headers.map((h, i) => <tr key={i}><th scope="row">{h.name}</th><td><code className="wrap">{h.value}</code></td></tr>)}</tbody></table>
      <div className="row">
        <a href={`/v1/captured/${id}/raw`} download>{t('msg.downloadEml')}</a>
        <button type="button" onClick={runLint} disabled={a.busy} data-testid="lint-captured">{t('msg.lint')}</button>
      </div>
      {a.error ? <ErrorBox error={a.error} /> : null}
      {lint && (
        <>
          <Notice kind={lint.ok ? 'ok' : 'warn'}>{t('lint.summary', { category: t(`cat.${lint.category}`), errors: lint.errors, warnings: lint.warnings })}</Notice>
          <Findings items={lint.findings} />
        </>
      )}
    </Card>
  );
}
