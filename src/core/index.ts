import type { Deps } from '../app/deps.js';
import type { MessageContent } from './message-input.js';
import { accountsCore } from './accounts.js';
import { campaignsCore } from './campaigns.js';
import { contactsCore } from './contacts.js';
import type { importContacts } from './contacts-import.js';
import { listsCore } from './lists.js';
import { domainsCore } from './domains.js';
import { messagesCore } from './messages.js';
import type { SendCollaborators } from './send-collaborators.js';
import { complianceGuard } from '../compliance/guard.js';
import { combineGuards } from '../send/guard.js';
import { compliancePreflight } from '../compliance/preflight.js';
import { suppressionsCore } from './suppressions.js';
import { templatesCore } from './templates.js';
import { bouncesCore } from './bounces.js';
import { providerHooksCore } from './provider-hooks.js';
import { dmarcCore } from './dmarc.js';
import { relayCore } from './relay.js';
import { webhooksCore } from './webhooks.js';
import { complianceCore } from './compliance.js';
import { consoleUsersCore } from './console-users.js';

/** Every use case, built once from the dependencies. Edges (http, inbound, cli) call only these. */
export function createCore(deps: Deps) {
  const domains = domainsCore(deps);
  const suppressions = suppressionsCore(deps);
  const bounces = bouncesCore(deps, suppressions);
  const collab: SendCollaborators = { domains, suppressions, bounces, // liquidjs and mailauth load on the first preview (API), not in every worker (bench/send memory).
    preview: (content: MessageContent, recipient: { address: string }) => import('../render/render-message.js').then((m) => m.previewContent(content, recipient)), guard: combineGuards(complianceGuard(deps), bounces.holdsGuard), preflight: compliancePreflight(deps) };
  return {
    accounts: accountsCore(deps),
    domains,
    suppressions,
    templates: templatesCore(deps),
    lists: listsCore(deps),
    contacts: { ...contactsCore(deps), import: (accountId: string, listId: string, input: Parameters<typeof importContacts>[3], opts?: Parameters<typeof importContacts>[4]) => import('./contacts-import.js').then((m) => m.importContacts(deps, accountId, listId, input, opts)) },
    messages: messagesCore(deps, collab),
    campaigns: campaignsCore(deps, collab),
    bounces,
    providerHooks: providerHooksCore(deps, bounces),
    dmarc: dmarcCore(deps),
    relay: relayCore(deps),
    webhooks: webhooksCore(deps),
    compliance: complianceCore(deps),
    consoleUsers: consoleUsersCore(deps),
    /** What the send path (planner, worker) shares with the use cases above. */
    collab,
  };
}

/** The core's type. */
export type Core = ReturnType<typeof createCore>;
