/** One recipient outcome reported by a smarthost provider's webhook (issue 5 item 5). */
export interface ProviderEvent {
  /** Stable id of the event at the provider, for de-duplication of retries. */
  key: string;
  kind: 'bounce' | 'complaint' | 'delivery' | 'delay';
  address: string;
  /** SMTP reply code, enhanced status and text when the provider gives them. */
  code: number | null;
  status: string | null;
  diagnostic: string | null;
  /** The provider's own verdict: permanent (hard), transient (soft) or unknown. */
  permanence: 'permanent' | 'transient' | 'unknown';
  /** Our Message-ID when the provider echoes it. */
  messageId: string | null;
  feedbackType?: string | null;
}

/** Result of verifying and parsing one webhook request. */
export type ProviderParse =
  | { ok: true; events: ProviderEvent[]; /** SNS subscription confirmation to visit. */ confirmUrl?: string }
  | { ok: false; status: 400 | 401; reason: string };

/** What a provider parser gets: the raw body bytes and the headers, plus the hook's secret. */
export interface ProviderRequest {
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  secret: string | null;
  now: number;
}

/** A header as one string. */
export function header(h: ProviderRequest['headers'], name: string): string | null {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] ?? null : v ?? null;
}

/** JSON.parse that answers null instead of throwing. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/** A string field or null. */
export const str = (v: unknown): string | null => (typeof v === 'string' && v.length ? v : null);
