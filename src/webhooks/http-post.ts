import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isTegamiError } from '../domain/errors.js';
import { safeAddresses, type LookupAll } from './url-guard.js';

/** The outcome of one POST: a status code, or an error when no response came. */
export interface PostResult {
  status: number | null;
  /** The first bytes of the response body (the delivery log keeps them). */
  response: string | null;
  error: string | null;
  durationMs: number;
}

/** How deliveries reach the network. */
export interface PostOptions {
  timeoutMs: number;
  lookup: LookupAll;
  allowLocalHttp: boolean;
}

const MAX_RESPONSE = 2048;

/**
 * POSTs a body without following redirects, connecting only to the addresses checked by
 * safeAddresses (the socket's lookup returns exactly those, so DNS cannot change in between).
 */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, opts: PostOptions): Promise<PostResult> {
  const t0 = Date.now();
  const done = (r: Omit<PostResult, 'durationMs'>): PostResult => ({ ...r, durationMs: Date.now() - t0 });
  const u = new URL(url);
  let addrs: LookupAddress[];
  try {
    addrs = await safeAddresses(u, opts.lookup, opts.allowLocalHttp);
  } catch (err) {
    return done({ status: null, response: null, error: isTegamiError(err) ? `${err.code}: ${err.message}` : `dns: ${(err as Error).message}` });
  }
  const pinned = (_h: string, o: { all?: boolean } | number, cb: (...a: unknown[]) => void) =>
    typeof o === 'object' && o.all ? cb(null, addrs) : cb(null, addrs[0].address, addrs[0].family);
  return new Promise((resolve) => {
    const lib = u.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(r));
    };
    const req = lib.request(u, {
      // A fresh connection per request keeps the pinned addresses authoritative (no pooled socket to another IP).
      method: 'POST', lookup: pinned as never, agent: false, ...(isIP(u.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: u.hostname }),
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'tegami-webhooks/1' },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_RESPONSE) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => finish({ status: res.statusCode ?? null, response: Buffer.concat(chunks).subarray(0, MAX_RESPONSE).toString('utf8'), error: null }));
      res.on('error', (e) => finish({ status: res.statusCode ?? null, response: null, error: e.message }));
    });
    const timer = setTimeout(() => {
      finish({ status: null, response: null, error: `timeout after ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (e) => finish({ status: null, response: null, error: e.message }));
    req.end(body);
  });
}
