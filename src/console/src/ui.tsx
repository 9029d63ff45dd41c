import { useCallback, useEffect, useId, useRef, useState, type ComponentProps, type ReactNode } from 'react';
import { api, ApiError } from './api';
import { useI18n } from './i18n';

/** Loads data for a screen; `reload` runs it again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then((data) => { if (n === seq.current) setState({ data, loading: false }); },
      (error) => { if (n === seq.current) setState({ error, loading: false }); });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => { run(); }, [run]);
  return { ...state, reload: run };
}

/**
 * Keyset pages of a list endpoint (`{ items, next_cursor }`): the first page loads with `deps`,
 * `more()` appends the next one.
 */
export function usePaged<T>(url: (cursor: string | null) => string, deps: unknown[]) {
  const [rows, setRows] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useLoad(async () => {
    const r = await api<{ items: T[]; next_cursor: string | null }>('GET', url(null));
    setRows(r.items); setNext(r.next_cursor);
    return r;
  }, deps);
  const more = async () => {
    const r = await api<{ items: T[]; next_cursor: string | null }>('GET', url(next));
    setRows((x) => [...x, ...r.items]); setNext(r.next_cursor);
  };
  return { state: first, rows, more: next ? more : null };
}

/** A screen with its title. */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => { document.title = `${title} · tegami`; }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head"><h1 id="page-title">{title}</h1>{actions}</header>
      {children}
    </section>
  );
}

/** A titled box on a screen. */
export function Card({ title, children, testid, className }: { title?: string; children: ReactNode; testid?: string; className?: string }) {
  const id = useId();
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={title ? id : undefined} data-testid={testid}>
      {title && <h2 id={id}>{title}</h2>}
      {children}
    </section>
  );
}

/** Says that the server has no such endpoint (yet) instead of breaking the screen. */
export function NotAvailable({ what }: { what?: string }) {
  const { t } = useI18n();
  return <p className="na" role="note" data-testid="not-available">{t('notAvailable')}{what ? ` (${what})` : ''}</p>;
}

/** An error from the API with its stable code. */
export function ErrorBox({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (error instanceof ApiError && error.unavailable) return <NotAvailable />;
  const code = error instanceof ApiError ? error.code : 'E_CLIENT';
  const msg = error instanceof Error ? error.message : String(error);
  return <p className="error" role="alert"><strong>{t('error')} {code}</strong>: {msg}</p>;
}

/** Shows loading, error or the data. */
export function Loaded<T>({ state, children }: { state: { data?: T; error?: unknown; loading: boolean }; children: (d: T) => ReactNode }) {
  const { t } = useI18n();
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <p className="muted" aria-busy="true">{t('loading')}</p>;
  // A reload (another filter or period) keeps the previous figures on screen until the new ones
  // arrive: marked busy and dimmed, so no one reads them as the answer to the new question.
  if (state.loading) return <div className="stale" aria-busy="true" data-testid="stale">{children(state.data)}</div>;
  return <>{children(state.data)}</>;
}

type FieldProps = { label: string; hint?: ReactNode };
/** A labelled input. */
export function Field({ label, hint, ...rest }: FieldProps & ComponentProps<'input'>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-h` : undefined} {...rest} />
      {hint && <small id={`${id}-h`}>{hint}</small>}
    </div>
  );
}
/** A labelled select. */
export function Select({ label, hint, children, ...rest }: FieldProps & ComponentProps<'select'>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-describedby={hint ? `${id}-h` : undefined} {...rest}>{children}</select>
      {hint && <small id={`${id}-h`}>{hint}</small>}
    </div>
  );
}
/** A labelled textarea. */
export function TextArea({ label, hint, ...rest }: FieldProps & ComponentProps<'textarea'>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} aria-describedby={hint ? `${id}-h` : undefined} {...rest} />
      {hint && <small id={`${id}-h`}>{hint}</small>}
    </div>
  );
}

/** A progress bar with its figure in words for screen readers. */
export function ProgressBar({ value, label, testid }: { value: number; label: string; testid?: string }) {
  const pct = Math.max(0, Math.min(100, Math.round(value * 100)));
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid={testid}>
      <div className="bar" style={{ width: `${pct}%` }} />
      <span>{pct} %</span>
    </div>
  );
}

/** Copies a value to the clipboard (DNS records, keys). */
export function CopyButton({ value, label }: { value: string; label?: string }) {
  const { t } = useI18n();
  const [done, setDone] = useState(false);
  const copy = async () => {
    try { await navigator.clipboard.writeText(value); } catch {
      const ta = document.createElement('textarea');
      ta.value = value; document.body.appendChild(ta); ta.select(); document.execCommand('copy'); ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return <button type="button" className="small" onClick={copy} aria-label={`${t('copy')} ${label ?? ''}`.trim()}>{done ? t('copied') : t('copy')}</button>;
}

/** A polite live region for results of actions. */
export function Notice({ children, kind = 'ok' }: { children: ReactNode; kind?: 'ok' | 'warn' }) {
  return <p className={`notice ${kind}`} role="status" aria-live="polite">{children}</p>;
}

/** Runs an action, keeping its busy flag and error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true); setError(null);
    try { return await fn(); } catch (e) { setError(e); return undefined; } finally { setBusy(false); }
  };
  return { busy, error, run, setError };
}

/** A status word as a coloured badge. */
export function Badge({ value }: { value: string }) {
  const { t } = useI18n();
  return <span className={`badge b-${value.replace(/[^a-z_]/gi, '')}`}>{t(`status.${value}`) === `status.${value}` ? value : t(`status.${value}`)}</span>;
}
