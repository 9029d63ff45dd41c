import type { Core } from '../core/index.js';
import type { CreateAppOptions, Role } from './create-app.js';
import type { Deps } from './deps.js';

/** What a started background service reports: how to stop it and facts for tests (e.g. a port). */
export interface StartedService {
  stop(): Promise<void>;
  info?: Record<string, unknown>;
}

/**
 * A long-running part of a role besides HTTP, inbound SMTP and sending: the submission relay,
 * the webhook dispatcher, periodic domain checks. `start` returns null when configured off.
 */
export interface Service {
  name: string;
  roles: Role[];
  start(deps: Deps, core: Core, opts: CreateAppOptions): Promise<StartedService | null>;
}

/** A service whose module is imported only when a process with one of its roles starts it. */
function lazy(name: string, roles: Role[], load: () => Promise<Service>): Service {
  return { name, roles, start: async (deps, core, opts) => (await load()).start(deps, core, opts) };
}

/** Every service; add one line per service (name and roles must match the module's own). */
export const SERVICES: Service[] = [
  lazy('relay', ['smtp'], async () => (await import('../inbound/relay/service.js')).relayService),
  lazy('webhooks', ['worker'], async () => (await import('../webhooks/service.js')).webhookService),
  lazy('compliance', ['worker'], async () => (await import('../compliance/service.js')).complianceService),
];
