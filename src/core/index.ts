import type { Deps } from '../app/deps.js';
import { accountsCore } from './accounts.js';

/** Every use case, built once from the dependencies. Edges (http, inbound, cli) call only these. */
export function createCore(deps: Deps) {
  return {
    accounts: accountsCore(deps),
  };
}

/** The core's type. */
export type Core = ReturnType<typeof createCore>;
