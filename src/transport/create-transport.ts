import { promises as dns } from 'node:dns';
import type { Deps } from '../app/deps.js';
import { captureTransport } from './capture.js';
import { mailauthPolicyProvider, type PolicyProvider } from './mta-sts.js';
import { mxTransport, type Resolver } from './mx.js';
import { smtpRelayTransport } from './smtp-relay.js';
import type { Transport } from './types.js';

/** The transport named by `transport.kind`; resolver and MTA-STS policy are injectable. */
export function createTransport(deps: Deps, opts: { resolver?: Resolver; policy?: PolicyProvider } = {}): Transport {
  const t = deps.config.transport;
  if (t.kind === 'smtp') return smtpRelayTransport(t);
  if (t.kind === 'mx') {
    const resolver = opts.resolver ?? ((name: string, type: string) => dns.resolve(name, type as 'A') as Promise<any[]>);
    return mxTransport(t, { resolver, policy: opts.policy ?? mailauthPolicyProvider(resolver, t.timeoutMs), log: deps.log.child({ component: 'mx' }) });
  }
  return captureTransport(deps.store, deps.clock);
}
