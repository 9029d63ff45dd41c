/** Why an address is suppressed (issue 4 item 1). */
export type SuppressionReason = 'unsubscribe' | 'complaint' | 'hard_bounce' | 'soft_bounce_limit' | 'manual' | 'invalid';
/** Every reason, in the order the API documents them. */
export const REASONS: SuppressionReason[] = ['unsubscribe', 'complaint', 'hard_bounce', 'soft_bounce_limit', 'manual', 'invalid'];
/** `account` = all subscription mail of the account; `list` = one list. */
export type SuppressionScope = 'account' | 'list';

/**
 * Which entries block which mail:
 * - subscription mail is blocked by every account-scope entry, and by list-scope entries of its list;
 * - transactional mail is blocked only where the address cannot or must not receive mail at all:
 *   hard_bounce, complaint and invalid (any scope), and manual with scope account.
 *   A newsletter unsubscribe (reason unsubscribe) or soft_bounce_limit never blocks a password reset.
 */
export function blocks(entry: { reason: string; scope: string; list_id: string }, mail: { category: 'subscription' | 'transactional'; listId: string | null }): boolean {
  if (mail.category === 'subscription') return entry.scope === 'account' || (entry.scope === 'list' && entry.list_id === mail.listId);
  if (entry.reason === 'hard_bounce' || entry.reason === 'complaint' || entry.reason === 'invalid') return true;
  return entry.reason === 'manual' && entry.scope === 'account';
}
