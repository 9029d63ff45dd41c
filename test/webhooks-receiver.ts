import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver saw (`status` -1: it never answered). */
export interface Received { headers: IncomingHttpHeaders; body: string; json: any; id: string; path: string; status: number }

/**
 * A real HTTP receiver on 127.0.0.1, port 0. `respond` picks the status per request (default 200).
 * Used by the webhook tests only; it shares no code with src/webhooks.
 */
export async function startReceiver() {
  const got: Received[] = [];
  let respond: (r: Omit<Received, 'status'>) => number = () => 200;
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try { json = JSON.parse(body); } catch { /* kept as text */ }
      const r = { headers: req.headers, body, json, id: String(req.headers['webhook-id'] ?? ''), path: req.url ?? '' };
      const status = respond(r);
      got.push({ ...r, status });
      if (status < 0) return; // a receiver that never answers (timeouts)
      const answer = () => res.writeHead(status, { 'content-type': 'text/plain', ...(status >= 300 && status < 400 ? { location: '/redirected' } : {}) }).end(status < 300 ? 'ok' : 'nope');
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    got,
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    at: (path: string) => got.filter((g) => g.path === path),
    setResponder(fn: (r: Omit<Received, 'status'>) => number) { respond = fn; },
    /** Answer each request this long after it arrived (a slow endpoint). */
    setDelay(ms: number) { delayMs = ms; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An independent check of a Standard Webhooks signature (spec, "Verifying webhooks"): the key is
 * the base64 after `whsec_`, the signed content is `${id}.${timestamp}.${body}`, the header holds
 * space-separated `v1,<base64>` values, and the timestamp must be within 5 minutes of `nowMs`.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string, nowMs: number): boolean {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sig = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return false;
  if (!/^\d+$/.test(ts) || Math.abs(nowMs / 1000 - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.split('_')[1], 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return sig.split(' ').some((part) => {
    const [version, value] = part.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
