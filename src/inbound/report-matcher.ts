import type { Deps } from '../app/deps.js';
import { tryParseAddress } from '../domain/address.js';
import { parseVerp, verpKey } from '../domain/verp.js';
import { messagesRepo, type MessageRow } from '../store/messages-repo.js';

/** What a report tells about the message it is about (see src/bounce/parse-report.ts OriginalRef). */
export interface OriginalHints {
  returnPath?: string | null;
  messageId?: string | null;
  headers?: Record<string, string>;
}

/**
 * Finds the message a bounce or complaint is about (issue 5 item 2): the VERP envelope
 * recipient first, then the original's VERP Return-Path, then its Message-ID, then its
 * Feedback-ID and To headers. Every match is a row tegami sent; nothing else is trusted.
 */
export function reportMatcher(deps: Deps) {
  const key = verpKey(deps.masterKey);
  const messages = messagesRepo(deps.store);

  /** The message row of a VERP address's local part, or null (bad signature, unknown id). */
  async function byVerpLocal(local: string): Promise<MessageRow | null> {
    const id = parseVerp(key, local);
    return id === null ? null : (await messages.getAny(id)) ?? null;
  }

  async function byVerpAddress(address: string | null | undefined): Promise<MessageRow | null> {
    if (!address) return null;
    const a = address.replace(/^<|>$/g, '').trim();
    const at = a.lastIndexOf('@');
    return at > 0 ? byVerpLocal(a.slice(0, at)) : null;
  }

  async function byMessageId(messageId: string | null | undefined): Promise<MessageRow | null> {
    if (!messageId) return null;
    const id = messageId.trim().replace(/^<|>$/g, '');
    if (!id || id.length > 500) return null;
    return (await messages.byMessageIdHeader(`<${id}>`)) ?? null;
  }

  /** `campaign:account:category:tegami` plus the original To: the newest such message. */
  async function byHeaders(h: Record<string, string> | undefined): Promise<MessageRow | null> {
    const fid = h?.['feedback-id'];
    const to = h?.to;
    if (!fid || !to) return null;
    const m = /^([^:\s]+):([^:\s]+):(subscription|transactional):tegami$/.exec(fid.trim());
    const addr = /<([^>]+)>/.exec(to)?.[1] ?? to.trim();
    const p = tryParseAddress(addr);
    if (!m || !p.ok) return null;
    return (await messages.latestTo(m[2], p.value.key, m[1] === 'api' ? null : m[1])) ?? null;
  }

  return {
    byVerpLocal,
    /** Tries every hint in order of trust. */
    async byOriginal(o: OriginalHints | null | undefined): Promise<MessageRow | null> {
      if (!o) return null;
      return (await byVerpAddress(o.returnPath)) ?? (await byMessageId(o.messageId)) ?? (await byHeaders(o.headers));
    },
  };
}
