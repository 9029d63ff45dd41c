import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mtaSts = require('mailauth/lib/mta-sts') as {
  getPolicy(domain: string, known: unknown, opts: { resolver?: unknown; timeout?: number }): Promise<{ policy: MtaStsPolicy; status: string }>;
  validateMx(mx: string, policy: MtaStsPolicy): { valid: boolean; mode: string; testing: boolean };
};

/** An MTA-STS policy (RFC 8461) as mailauth returns it. */
export interface MtaStsPolicy {
  id?: string | false;
  mode: 'enforce' | 'testing' | 'none';
  mx?: string[];
  expires?: string;
}

/** Gives the policy of a recipient domain; injected in tests (no network). */
export type PolicyProvider = (domain: string) => Promise<MtaStsPolicy>;

/** mailauth's discovery and fetch, with a per-process cache honouring max_age (R-INFRA-4). */
export function mailauthPolicyProvider(resolver: unknown, timeoutMs: number): PolicyProvider {
  const cache = new Map<string, MtaStsPolicy>();
  return async (domain) => {
    const known = cache.get(domain);
    const { policy } = await mtaSts.getPolicy(domain, known, { resolver, timeout: timeoutMs });
    cache.set(domain, policy);
    return policy;
  };
}

/** Whether an MX host may be used under the policy; `enforce` also demands a valid certificate. */
export function mxAllowed(mx: string, policy: MtaStsPolicy): { allowed: boolean; enforce: boolean; testingMismatch: boolean } {
  const v = mtaSts.validateMx(mx, policy);
  const enforce = policy.mode === 'enforce';
  return { allowed: v.valid || !enforce, enforce, testingMismatch: !v.valid && policy.mode === 'testing' };
}
