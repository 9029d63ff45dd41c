import type { SigningKeys } from '../render/dkim.js';
import type { SendGuard } from '../send/guard.js';
import type { BouncesCore } from './bounces.js';
import type { MessageContent } from './message-input.js';

/** A sending domain as the send path needs it. */
export interface SendingDomain {
  id: string;
  name: string;
  return_path_domain: string;
  unsubscribe_host: string | null;
  status: string;
  test_mode: number;
}

/** A blocking suppression entry for one address key. */
export interface Block {
  reason: string;
  scope: string;
  /** When the blocking entry was created. */
  createdAt?: number;
}

/**
 * The other use cases the send path calls, passed in by createCore so that `messages`,
 * `campaigns` and the worker do not build their own copies.
 */
export interface SendCollaborators {
  domains: {
    findDomainForAddress(accountId: string, domain: string): Promise<SendingDomain | undefined>;
    getSigningKeys(accountId: string, domainId: string): Promise<SigningKeys>;
  };
  suppressions: {
    checkBatch(accountId: string, keys: string[], opts: { category: 'subscription' | 'transactional'; listId: string | null }): Promise<Map<string, Block>>;
    add(
      accountId: string,
      entries: Array<{ address: string; scope: 'account' | 'list'; listId?: string; reason: string; note?: string }>,
      ctx: { source: string; ip?: string; userAgent?: string },
    ): Promise<unknown>;
  };
  /** Bounce outcomes, soft-bounce counts and held streams (issue 5). */
  bounces: Pick<BouncesCore, 'apply' | 'delivered'>;
  /** Warm-up, caps, paused and held streams, volume counters (issues 5 and 6), combined with combineGuards. */
  guard: SendGuard;
  /** Preflight gates for a subscription send or campaign (issue 6 item 2); throws E_COMPLIANCE with the rule id. */
  preflight(accountId: string, input: { from: string; category: 'subscription' | 'transactional'; domainId: string | null }): Promise<void>;
  /** Renders the content for one recipient and throws E_TEMPLATE/E_NO_UNSUBSCRIBE_LINK when it cannot. */
  preview(content: MessageContent, recipient: { address: string }): Promise<unknown>;
}
