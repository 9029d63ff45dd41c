import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The console's own paths live under /console/ (the server answers index.html for them). */
export const BASE = '/console';

/** The current path below /console, e.g. `/campaigns/cmp_1`, and its query. */
export function currentRoute(): { path: string; query: URLSearchParams } {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return { path: p.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search) };
}

/** Goes to a console path without reloading. */
export function navigate(to: string, replace = false): void {
  const url = BASE + (to.startsWith('/') ? to : `/${to}`);
  if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
  window.dispatchEvent(new Event('tegami:navigate'));
}

/** Re-renders on navigation. */
export function useRoute() {
  const [r, setR] = useState(currentRoute);
  useEffect(() => {
    const on = () => setR(currentRoute());
    window.addEventListener('popstate', on);
    window.addEventListener('tegami:navigate', on);
    return () => { window.removeEventListener('popstate', on); window.removeEventListener('tegami:navigate', on); };
  }, []);
  return r;
}

/** Matches `/campaigns/:id` against a path; the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) out[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return out;
}

/** An in-app link: a real <a href> (keyboard and middle-click work) that navigates without reload. */
export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={onClick} {...rest} />;
}
