import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Clock } from '../domain/clock.js';
import type { Db } from '../store/db.js';

/**
 * The dependencies passed down as one object (DESIGN convention 10); never imported singletons.
 * Optional parts (resolver, transport) are added by the composition root when a role needs them.
 */
export interface Deps {
  store: Db;
  clock: Clock;
  log: Logger;
  config: Config;
  /** 32-byte master key for secrets at rest. */
  masterKey: Buffer;
  /** Outbound HTTP (provider certificate fetches, confirmations); tests inject their own. */
  fetch?: typeof fetch;
}
