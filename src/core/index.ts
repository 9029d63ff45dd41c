import type { Deps } from '../app/deps.js';
import { previewContent } from '../render/render-message.js';
import { accountsCore } from './accounts.js';
import { campaignsCore } from './campaigns.js';
import { contactsCore } from './contacts.js';
import { importContacts } from './contacts-import.js';
import { listsCore } from './lists.js';
import { domainsCore } from './domains.js';
import { messagesCore } from './messages.js';
import type { SendCollaborators } from './send-collaborators.js';
import { suppressionsCore } from './suppressions.js';
import { templatesCore } from './templates.js';

/** Every use case, built once from the dependencies. Edges (http, inbound, cli) call only these. */
export function createCore(deps: Deps) {
  const domains = domainsCore(deps);
  const suppressions = suppressionsCore(deps);
  const collab: SendCollaborators = { domains, suppressions, preview: previewContent };
  return {
    accounts: accountsCore(deps),
    domains,
    suppressions,
    templates: templatesCore(deps),
    lists: listsCore(deps),
    contacts: { ...contactsCore(deps), import: (accountId: string, listId: string, input: Parameters<typeof importContacts>[3], opts?: Parameters<typeof importContacts>[4]) => importContacts(deps, accountId, listId, input, opts) },
    messages: messagesCore(deps, collab),
    campaigns: campaignsCore(deps, collab),
    /** What the send path (planner, worker) shares with the use cases above. */
    collab,
  };
}

/** The core's type. */
export type Core = ReturnType<typeof createCore>;
