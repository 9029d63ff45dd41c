/** The console talks only to the HTTP API (DESIGN.md): same origin, session cookie, CSRF header. */

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
  /** The endpoint does not exist on this server (a later issue has not landed). */
  get unavailable(): boolean {
    return this.status === 404 && this.code === 'E_NOT_FOUND' && this.message === 'Not found';
  }
}

let csrf = '';
let onUnauthenticated: () => void = () => {};

/** Remembers the session's CSRF token for state-changing requests. */
export function setCsrf(token: string): void {
  csrf = token;
}
/** Called when a request answers 401 (the session ended). */
export function onSessionLost(fn: () => void): void {
  onUnauthenticated = fn;
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const b = await res.json();
    return new ApiError(res.status, b?.error?.code ?? 'E_HTTP', b?.error?.message ?? res.statusText, b?.error?.details);
  } catch {
    return new ApiError(res.status, 'E_HTTP', res.statusText);
  }
}

/** JSON request; throws ApiError with the API's stable code. */
export async function api<T = any>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && url !== '/v1/session') onUnauthenticated();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? res.json() : res.text()) as Promise<T>;
}

/** A query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * Uploads a file body with upload progress (fetch has none): CSV imports of lists and the
 * suppression ledger. `onProgress` gets 0..1.
 */
export function upload<T = any>(url: string, file: Blob, onProgress: (f: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', url);
    x.setRequestHeader('content-type', 'text/csv');
    if (csrf) x.setRequestHeader('x-csrf-token', csrf);
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    x.onload = () => {
      let b: any = null;
      try { b = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status >= 200 && x.status < 300) { onProgress(1); resolve(b as T); } else reject(new ApiError(x.status, b?.error?.code ?? 'E_HTTP', b?.error?.message ?? x.statusText));
    };
    x.onerror = () => reject(new ApiError(0, 'E_NETWORK', 'network error'));
    x.send(file);
  });
}
