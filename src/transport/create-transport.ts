import { promises as dns } from 'node:dns';
import type { Deps } from '../app/deps.js';
import { captureTransport } from './capture.js';
import { mtaStsPolicyProvider, type PolicyProvider } from './mta-sts.js';
import { mxTransport, type Resolver } from './mx.js';
import { smtpRelayTransport } from './smtp-relay.js';
import type { Transport } from './types.js';

/** Injectable network parts of a transport: DNS, the HTTPS fetch for MTA-STS, or a whole policy provider. */
export interface TransportNet {
  resolver?: Resolver;
  fetch?: typeof fetch;
  policy?: PolicyProvider;
}

/** node:dns with mailauth's `(name, rrtype) => records` shape, used when no resolver is injected. */
const systemResolver: Resolver = (name, type) => dns.resolve(name, type as 'A') as Promise<any[]>;

/**
 * The transport named by `config.transport.kind` (capture by default). Tests inject the resolver
 * and fetch (no real DNS or HTTPS); `opts` is accepted as well for callers that pass them apart.
 */
export function createTransport(deps: Deps & TransportNet, opts: TransportNet = {}): Transport {
  const t = deps.config.transport;
  if (t.kind === 'smtp') return smtpRelayTransport(t);
  if (t.kind === 'mx') {
    const resolver = opts.resolver ?? deps.resolver ?? systemResolver;
    const policy = opts.policy ?? deps.policy ?? mtaStsPolicyProvider({
      resolver, fetch: opts.fetch ?? deps.fetch ?? fetch, clock: deps.clock, timeoutMs: t.timeoutMs, log: deps.log.child({ component: 'mta-sts' }),
    });
    return mxTransport(t, { resolver, policy, log: deps.log.child({ component: 'mx' }) });
  }
  return captureTransport(deps.store, deps.clock);
}
