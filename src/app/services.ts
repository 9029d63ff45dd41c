import type { Core } from '../core/index.js';
import type { CreateAppOptions, Role } from './create-app.js';
import type { Deps } from './deps.js';
import { relayService } from '../inbound/relay/service.js';
import { webhookService } from '../webhooks/service.js';
import { complianceService } from '../compliance/service.js';

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

/** Every service; add one line per service. */
export const SERVICES: Service[] = [relayService, webhookService, complianceService];
