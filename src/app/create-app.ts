import type { Logger } from 'pino';
import { loadMasterKey } from '../config/master-key.js';
import type { Config } from '../config/schema.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { createCore, type Core } from '../core/index.js';
import { buildApp } from '../http/app.js';
import type { App } from '../http/types.js';
import { openDb, type Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import type { Deps } from './deps.js';
import { mailtoUnsubscribeHandler, startInboundServer } from '../inbound/inbound-server.js';
import { createSendingRole, type SendingRole } from '../send/sending-role.js';
import { createTransport } from '../transport/create-transport.js';
import type { Resolver } from '../transport/mx.js';
import type { PolicyProvider } from '../transport/mta-sts.js';
import type { Transport } from '../transport/types.js';
import { createLogger } from './logger.js';

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
}

/** Composition root: wires store, core, http (and later send, inbound) for the given roles. */
export async function createApp(config: Config, roles: Role[], opts: CreateAppOptions = {}): Promise<TegamiApp> {
  const log = opts.log ?? createLogger(config);
  const store = opts.store ?? openDb({ url: config.database.url, poolSize: config.database.poolSize });
  await migrate(store);
  const masterKey = opts.masterKey ?? loadMasterKey(config, { create: true });
  const deps: Deps = { store, clock: opts.clock ?? systemClock, log, config, masterKey };
  const core = createCore(deps);
  const stops: Array<() => Promise<void>> = [];
  const out: TegamiApp = { deps, core, stop: async () => {} };
  if (roles.includes('api')) {
    const http = await buildApp(deps, core);
    out.http = http;
    if (opts.listen !== false) {
      out.url = await http.listen({ host: config.http.host, port: config.http.port });
    } else {
      await http.ready();
    }
    stops.push(() => http.close());
  }
  if (roles.includes('smtp') && (config.smtp.inboundPort > 0 || opts.inboundPort !== undefined)) {
    const inbound = await startInboundServer(deps, [mailtoUnsubscribeHandler(deps, core)], { port: opts.inboundPort ?? config.smtp.inboundPort, host: config.smtp.host });
    out.inboundPort = inbound.port;
    stops.push(inbound.close);
  }
  if (roles.includes('worker')) {
    const transport = opts.transport ?? createTransport(deps, { resolver: opts.resolver, policy: opts.policy });
    out.sending = createSendingRole(deps, core.collab, transport, { start: opts.startLoops !== false });
    // Stop sending before the HTTP server so in-flight work finishes and leases are released.
    stops.unshift(() => out.sending!.stop());
  }
  out.stop = async () => {
    for (const s of stops) await s().catch((err) => log.error({ err }, 'stop failed'));
    if (!opts.store) await store.close();
  };
  return out;
}
