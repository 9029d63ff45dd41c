import type { Logger } from 'pino';
import { loadMasterKey } from '../config/master-key.js';
import type { Config } from '../config/schema.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { createCore, type Core } from '../core/index.js';
import type { App } from '../http/types.js';
import { openDb, type Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import type { Deps } from './deps.js';
import type { ForwardSealer } from '../inbound/role-mail.js';
import type { ArcResolver } from '../arc/seal.js';
import { SERVICES, type StartedService } from './services.js';
import { createSendingRole, type SendingRole } from '../send/sending-role.js';
import { createTransport } from '../transport/create-transport.js';
import type { Resolver } from '../transport/mx.js';
import type { PolicyProvider } from '../transport/mta-sts.js';
import type { Transport } from '../transport/types.js';
import { createLogger } from './logger.js';
import { applyWorkerHeapGrowth, mainThreadRenders, sqliteCacheMb } from './worker-memory.js';
import { createMetrics } from '../http/metrics.js';

/** The roles a process can play. */
export type Role = 'api' | 'smtp' | 'worker';
export const ALL_ROLES: Role[] = ['api', 'smtp', 'worker'];

/** A running tegami: its parts and how to stop it. */
export interface TegamiApp {
  deps: Deps;
  core: Core;
  http?: App;
  /** Address the HTTP server listens on, once started. */
  url?: string;
  /** Port of the inbound SMTP server (mailto unsubscribes, later bounces), when started. */
  inboundPort?: number;
  /** The worker role (planner + sender), when this process has it. */
  sending?: SendingRole;
  /** Port of the worker's own /metrics server (worker.metricsPort, processes without the api role). */
  metricsPort?: number;
  /** Started background services by name (relay, webhooks, …). */
  services: Record<string, StartedService>;
  stop(): Promise<void>;
}

/** Overrides for tests and embedding. */
export interface CreateAppOptions {
  store?: Db;
  clock?: Clock;
  log?: Logger;
  masterKey?: Buffer;
  /** Start listening (default true); tests may use inject() instead. */
  listen?: boolean;
  /** Run the worker loops in the background (default true); tests call `sending.drain()`. */
  startLoops?: boolean;
  /** Start the inbound SMTP server on this port (0 = any free port) even if the config says 0. */
  inboundPort?: number;
  /** Overrides of the configured transport, DNS resolver and MTA-STS policy source. */
  transport?: Transport;
  resolver?: Resolver;
  policy?: PolicyProvider;
  /** Start the submission relay on this port (0 = any free port) even if the config says 0. */
  relayPort?: number;
  /** DNS for ARC evaluation of forwarded mail, in mailauth's (name, rrtype) shape. */
  arcResolver?: ArcResolver;
  /** Override of outbound HTTP (webhook deliveries, provider APIs) for tests. */
  fetch?: typeof fetch;
}

/**
 * Composition root: wires store, core, http (and later send, inbound) for the given roles.
 * Each role's edge (Fastify and its routes, the inbound SMTP server and its parsers, the
 * services) is imported only when the process has that role: a `tegami worker` never loads the
 * HTTP or inbound stacks (issue 3: peak RSS of the sending process).
 */
export async function createApp(config: Config, roles: Role[], opts: CreateAppOptions = {}): Promise<TegamiApp> {
  const log = opts.log ?? createLogger(config);
  // A dedicated sending worker keeps its memory small (issue 3, bench/send): see worker-memory.ts.
  const dedicatedWorker = roles.includes('worker') && !roles.includes('api');
  if (dedicatedWorker) applyWorkerHeapGrowth(config.worker.heapGrowingPercent);
  const store = opts.store ?? openDb({ url: config.database.url, poolSize: config.database.poolSize, sqliteCacheMb: sqliteCacheMb(config, dedicatedWorker) });
  await migrate(store);
  const masterKey = opts.masterKey ?? loadMasterKey(config, { create: true });
  const deps: Deps = { store, clock: opts.clock ?? systemClock, log, config, masterKey, fetch: opts.fetch };
  const core = createCore(deps);
  // One registry per process: the HTTP front and the worker role count into the same one.
  const metrics = createMetrics();
  const stops: Array<() => Promise<void>> = [];
  const out: TegamiApp = { deps, core, services: {}, stop: async () => {} };
  if (roles.includes('api')) {
    const { buildApp } = await import('../http/app.js');
    const http = await buildApp(deps, core, { metrics });
    out.http = http;
    if (opts.listen !== false) {
      out.url = await http.listen({ host: config.http.host, port: config.http.port });
    } else {
      await http.ready();
    }
    stops.push(() => http.close());
  }
  if (roles.includes('smtp') && (config.smtp.inboundPort > 0 || opts.inboundPort !== undefined)) {
    const [{ startInboundServer }, { inboundHandlers }, { sealForwarded }, { resolve: dnsResolve }] = await Promise.all([
      import('../inbound/inbound-server.js'), import('../inbound/handlers.js'), import('../arc/forward.js'), import('node:dns/promises'),
    ]);
    // Role-mail forwarding shares one lazily created transport (the configured one, or the test override).
    let fwd: Transport | undefined;
    const forwardTransport = () => (fwd ??= opts.transport ?? createTransport(deps, { resolver: opts.resolver, policy: opts.policy }));
    stops.push(async () => { if (fwd && fwd !== opts.transport) await fwd.close(); });
    // Forwarded role mail carries an ARC set sealed with the receiving domain's key (R-AUTH-14).
    const arcResolver = opts.arcResolver ?? ((name: string, rr: string) => dnsResolve(name, rr));
    const seal: ForwardSealer = async (raw, accountId, domainId, s) => {
      if (!domainId) return raw;
      const r = await sealForwarded(deps, core.domains, { accountId, domainId, raw, resolver: arcResolver, session: { ip: s.remoteAddress, sender: s.mailFrom ?? undefined } });
      return r.raw;
    };
    const inbound = await startInboundServer(deps, inboundHandlers(deps, core, { transport: forwardTransport, seal }), { port: opts.inboundPort ?? config.smtp.inboundPort, host: config.smtp.host });
    out.inboundPort = inbound.port;
    stops.push(inbound.close);
  }
  if (roles.includes('worker')) {
    const transport = opts.transport ?? createTransport(deps, { resolver: opts.resolver, policy: opts.policy });
    out.sending = createSendingRole(deps, core.collab, transport, { start: opts.startLoops !== false, metrics, mainHelps: mainThreadRenders(config, dedicatedWorker) });
    // Stop sending before the HTTP server so in-flight work finishes and leases are released.
    stops.unshift(() => out.sending!.stop());
  }
  if (roles.includes('worker') && !roles.includes('api') && config.worker.metricsPort > 0) {
    const { startWorkerMetrics } = await import('./worker-metrics.js');
    const m = await startWorkerMetrics(deps, metrics, config.worker.metricsPort, config.worker.metricsHost);
    out.metricsPort = m.port;
    stops.push(m.close);
  }
  for (const svc of SERVICES) {
    if (!svc.roles.some((r) => roles.includes(r))) continue;
    const started = await svc.start(deps, core, opts);
    if (!started) continue;
    out.services[svc.name] = started;
    stops.unshift(started.stop);
  }
  out.stop = async () => {
    for (const s of stops) await s().catch((err) => log.error({ err }, 'stop failed'));
    if (!opts.store) await store.close();
  };
  return out;
}
