import type { Deps } from '../app/deps.js';
import type { Core } from '../core/index.js';
import { dmarcReportHandler } from '../dmarc/inbound.js';
import { mailtoUnsubscribeHandler, type RecipientHandler } from './inbound-server.js';
import { feedbackLoopHandler, verpBounceHandler } from './report-handlers.js';
import { roleMailHandler, type ForwardSealer } from './role-mail.js';
import type { Transport } from '../transport/types.js';

/** Every inbound recipient handler in the order they are asked; the first to claim an address wins. */
export function inboundHandlers(deps: Deps, core: Core, opts: { transport?: () => Transport; seal?: ForwardSealer } = {}): RecipientHandler[] {
  return [
    verpBounceHandler(deps, core), mailtoUnsubscribeHandler(deps, core), feedbackLoopHandler(deps, core),
    dmarcReportHandler(deps, core), roleMailHandler(deps, core, opts),
  ];
}
