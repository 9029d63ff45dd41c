import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';

type MtaStsLib = {
  resolvePolicy(domain: string, opts: { resolver?: unknown }): Promise<string | false>;
  parsePolicy(file: string): { mode: string; mx?: string[]; maxAge: number };
  validateMx(mx: string, policy: MtaStsPolicy): { valid: boolean; mode: string; testing: boolean };
};
let lib: MtaStsLib | null = null;
// mailauth's RFC 8461 grammar (TXT record, policy file, MX patterns); only the HTTPS fetch is ours,
// because mailauth opens its own https socket and tests must inject a fetch instead (no network).
// Loaded on first use: a process with the smarthost or capture transport never needs it.
const mtaSts = (): MtaStsLib => (lib ??= createRequire(import.meta.url)('mailauth/lib/mta-sts') as MtaStsLib);

/** An MTA-STS policy (RFC 8461). `mode: 'none'` also stands for "no policy". */
export interface MtaStsPolicy {
  id?: string | false;
  mode: 'enforce' | 'testing' | 'none';
  mx?: string[];
  /** Seconds the policy may be cached (max_age). */
  maxAge?: number;
}

/** Gives the policy of a recipient domain; injected in tests (no network). */
export type PolicyProvider = (domain: string) => Promise<MtaStsPolicy>;

/** The DNS lookup the provider uses: mailauth's resolver signature. */
export type TxtResolver = (name: string, rrtype: string) => Promise<unknown[]>;

/** How long a "no policy" answer, or a policy id, is trusted before DNS is asked again. */
const RECHECK_MS = 5 * 60_000;
/** RFC 8461 §3.3 suggests at most 64 KB for the policy file. */
const MAX_POLICY_BYTES = 64 * 1024;

interface Entry {
  policy: MtaStsPolicy;
  expiresAt: number;
  checkedAt: number;
}

/**
 * Discovers (`_mta-sts.<domain>` TXT through the injected resolver), fetches
 * (`https://mta-sts.<domain>/.well-known/mta-sts.txt` through the injected fetch, certificate
 * checked, no redirects) and caches policies for their max_age (R-INFRA-4, RFC 8461 §5.1).
 */
export function mtaStsPolicyProvider(opts: { resolver: TxtResolver; fetch: typeof fetch; clock: Clock; timeoutMs: number; log?: Logger }): PolicyProvider {
  const cache = new Map<string, Entry>();
  async function fetchPolicy(domain: string, id: string): Promise<MtaStsPolicy> {
    const url = `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
    // redirect 'error': RFC 8461 §3.3 forbids following redirects for the policy.
    const res = await opts.fetch(url, { redirect: 'error', signal: AbortSignal.timeout(opts.timeoutMs) });
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    const body = await res.text();
    if (Buffer.byteLength(body) > MAX_POLICY_BYTES) throw new Error(`${url}: policy larger than 64 KB`);
    const p = mtaSts().parsePolicy(body);
    return { id, mode: p.mode as MtaStsPolicy['mode'], mx: p.mx, maxAge: p.maxAge };
  }
  return async (domain) => {
    const d = domain.toLowerCase().replace(/\.$/, '');
    const now = opts.clock.now();
    const known = cache.get(d);
    const valid = known && known.expiresAt > now ? known : undefined;
    if (valid && now - valid.checkedAt < RECHECK_MS) return valid.policy;
    let id: string | false;
    try {
      id = await mtaSts().resolvePolicy(d, { resolver: opts.resolver });
    } catch (err) {
      // A DNS failure must not erase a still-valid policy (RFC 8461 §5.1): keep applying it.
      opts.log?.warn({ domain: d, err: (err as Error).message }, 'MTA-STS discovery failed');
      return valid?.policy ?? { mode: 'none' };
    }
    if (!id) {
      if (valid) return valid.policy;
      cache.set(d, { policy: { mode: 'none' }, expiresAt: now + RECHECK_MS, checkedAt: now });
      return { mode: 'none' };
    }
    if (valid && valid.policy.id === id) {
      valid.checkedAt = now;
      return valid.policy;
    }
    try {
      const policy = await fetchPolicy(d, id);
      cache.set(d, { policy, expiresAt: now + (policy.maxAge ?? 0) * 1000, checkedAt: now });
      return policy;
    } catch (err) {
      opts.log?.warn({ domain: d, err: (err as Error).message }, 'MTA-STS policy fetch failed');
      if (valid) return valid.policy;
      // Treated as no policy, and not re-fetched for a while (RFC 8461 §5.1 leaves this to the sender).
      cache.set(d, { policy: { id, mode: 'none' }, expiresAt: now + RECHECK_MS, checkedAt: now });
      return { mode: 'none' };
    }
  };
}

/** Whether an MX host may be used under the policy; `enforce` also demands a valid certificate. */
export function mxAllowed(mx: string, policy: MtaStsPolicy): { allowed: boolean; enforce: boolean; testingMismatch: boolean } {
  const v = mtaSts().validateMx(mx, policy);
  const enforce = policy.mode === 'enforce';
  return { allowed: v.valid || !enforce, enforce, testingMismatch: !v.valid && policy.mode === 'testing' };
}
