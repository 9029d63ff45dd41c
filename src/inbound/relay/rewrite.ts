import { LIST_UNSUBSCRIBE_POST } from '../../domain/headers.js';
import { dkimSignedNames, fieldValue, joinMessage, splitMessage, type HeaderField } from './message-headers.js';

/** What the relay decided for a message at acceptance; stored with its bytes (relay_messages.plan). */
export interface RelayPlan {
  category: 'subscription' | 'transactional';
  listId: string | null;
  /** List-Unsubscribe + List-Unsubscribe-Post per recipient; false under the Cc guard (seed 001). */
  oneClick: boolean;
  /** Filter header names (lower-case), never passed on. */
  remove: string[];
  /** The Received field this hop adds (RFC 5321 §4.4). */
  received: string;
  /** Added when the client sent none (RFC 5322 §3.6: Date is required, Message-ID expected). */
  messageId: string | null;
  date: string | null;
  warnings: string[];
}

/** The per-recipient header values (the unsubscribe token names the recipient, R-UNSUB-3). */
export interface RecipientHeaders {
  /** `<https://…>, <mailto:…>`, or null (transactional, or one-click withheld). */
  listUnsubscribe: string | null;
  listId: string | null;
  feedbackId: string;
}

/** The list header family a client may not set on subscription mail: tegami writes its own (R-FMT-4, R-UNSUB-1/13). */
const LIST_HEADERS = ['list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'list-help', 'list-subscribe', 'list-post', 'list-owner', 'list-archive'];
/** Never passed on: Bcc would disclose blind recipients; Return-Path is set by the final MTA. */
const ALWAYS_REMOVED = ['bcc', 'return-path', 'feedback-id'];

/**
 * Applies the relay's header changes for one recipient (issue 7 items 2 and 5): drops filter
 * headers, client list headers (subscription mail) and Bcc; adds List-Unsubscribe (https and
 * mailto), List-Unsubscribe-Post, List-Id and Feedback-ID; drops every client DKIM signature
 * whose h= names a changed header, since it could only fail now, and any with l= (R-AUTH-7). The result is unsigned: the
 * caller signs last (R-AUTH-8). Returns the bytes and the client signatures dropped.
 */
export function rewriteRelayed(raw: Buffer, plan: RelayPlan, h: RecipientHeaders): { raw: Buffer; droppedSignatures: number } {
  const { fields, body } = splitMessage(raw);
  const remove = new Set([...plan.remove, ...ALWAYS_REMOVED, ...(plan.category === 'subscription' ? LIST_HEADERS : [])]);
  const added: Array<[string, string]> = [];
  if (h.listUnsubscribe) added.push(['List-Unsubscribe', h.listUnsubscribe], ['List-Unsubscribe-Post', LIST_UNSUBSCRIBE_POST]);
  if (h.listId) added.push(['List-Id', h.listId]);
  added.push(['Feedback-ID', h.feedbackId]);
  if (plan.messageId) added.push(['Message-ID', plan.messageId]);
  if (plan.date) added.push(['Date', plan.date]);
  const changed = new Set(['received', ...added.map(([n]) => n.toLowerCase()), ...fields.filter((f) => remove.has(f.key)).map((f) => f.key)]);
  let droppedSignatures = 0;
  const kept: HeaderField[] = [];
  for (const f of fields) {
    if (remove.has(f.key)) continue;
    // A client signature with l= lets content be appended under it: never passed on (R-AUTH-7).
    if (f.key === 'dkim-signature' && (dkimSignedNames(fieldValue(f)).some((n) => changed.has(n)) || /(?:^|;)\s*l\s*=/.test(fieldValue(f)))) {
      droppedSignatures++;
      continue;
    }
    kept.push(f);
  }
  const out = [plan.received, ...kept, ...added.map(([n, v]) => `${n}: ${v}`)];
  return { raw: joinMessage(out, body), droppedSignatures };
}
