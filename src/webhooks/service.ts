import type { Service } from '../app/services.js';
import { startLoop } from '../send/runner.js';
import { createDispatcher, lookupFromResolver } from './dispatcher.js';

/**
 * The webhook dispatcher loop (issue 10), in every worker process: any number of them share the
 * work through the cursor lock and the delivery leases. `info.dispatcher` lets tests drive it.
 */
export const webhookService: Service = {
  name: 'webhooks',
  roles: ['worker'],
  async start(deps, _core, opts) {
    if (!deps.config.webhooks.enabled) return null;
    const dispatcher = createDispatcher(deps, { lookup: opts.resolver ? lookupFromResolver(opts.resolver) : undefined });
    const log = deps.log.child({ component: 'webhooks', owner: dispatcher.owner });
    const runner = opts.startLoops !== false ? startLoop('webhooks', () => dispatcher.tick(), { pollMs: deps.config.webhooks.pollMs, log }) : null;
    return { stop: async () => { await runner?.stop(); }, info: { dispatcher } };
  },
};
