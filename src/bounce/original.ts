import { decodeWords, getHeader, parseHeaderBlock, type HeaderField } from './mime-headers.js';
import { flatten, isEnclosedMessage, nodeText, type MimeNode } from './mime-tree.js';
import { cleanAddress } from './dsn-fields.js';

/** What a report says about the message it is about (the lead matches on these, in this order). */
export interface OriginalRef {
  /** Message-ID without angle brackets. */
  messageId: string | null;
  /** The original envelope sender (VERP `b+<id36>.<sig>@<bounce domain>` for tegami mail). */
  returnPath: string | null;
  /** Lowercased names: from, to, subject, date, list-id, feedback-id, list-unsubscribe when present. */
  headers: Record<string, string>;
}

const KEPT = ['from', 'to', 'cc', 'subject', 'date', 'list-id', 'feedback-id', 'list-unsubscribe', 'message-id', 'return-path', 'x-hmxmroriginalrecipient'];

/** Types that carry the original's headers or the whole original. */
export function isOriginalPart(type: string): boolean {
  return isEnclosedMessage(type) || type === 'text/rfc822-headers' || type === 'message/global-headers' || type === 'message/rfc822-headers';
}

/** Builds an OriginalRef from header fields; null when they hold nothing that identifies a message. */
export function originalFromFields(fields: HeaderField[]): OriginalRef | null {
  const headers: Record<string, string> = {};
  for (const name of KEPT) {
    const v = getHeader(fields, name);
    if (v !== null && v !== '') headers[name] = decodeWords(v).slice(0, 2000);
  }
  const messageId = cleanMessageId(getHeader(fields, 'message-id'));
  const rp = getHeader(fields, 'return-path') ?? getHeader(fields, 'x-original-return-path');
  const returnPath = rp ? cleanAddress(rp.replace(/^<>$/, '')) : null;
  if (!messageId && !returnPath && !headers.from && !headers.to && !headers.subject) return null;
  return { messageId, returnPath, headers };
}

/** A Message-ID without brackets or comments. */
export function cleanMessageId(v: string | null): string | null {
  if (!v) return null;
  // Folding sometimes leaves white space inside the brackets ("<id@ host>"): it is not part of the id.
  const m = /<([^<>]{1,995})>/.exec(v);
  const id = (m ? m[1].replace(/\s+/g, '') : v.trim().split(/\s+/)[0] ?? '').slice(0, 995);
  return id && id.includes('@') ? id : id || null;
}

/** The original from a structured part of the report (text/rfc822-headers, message/rfc822, …). */
export function originalFromParts(root: MimeNode): OriginalRef | null {
  for (const n of flatten(root)) {
    if (n === root || !isOriginalPart(n.ct.type)) continue;
    if (n.message) {
      const ref = originalFromFields(n.message.headers);
      if (ref) return ref;
      continue;
    }
    const ref = originalFromFields(parseHeaderBlock(nodeText(n, 64 * 1024)));
    if (ref) return ref;
  }
  return null;
}

// Lines that introduce a quoted original in free-text bounces (Exim, qmail, Sendmail, Courier,
// DragonFly, Exchange, 1&1, Japanese carriers, …): "copy of the message", "headers follow", …
const MARKER = /(original|returned|undelivered|rejected|unsent) (message|mail|headers?)|copy of (the|your) (original )?message|message headers follow|headers? of (the|your) original|below this line|original message (headers|follows)|content-type: message\/rfc822|^[-= ]*(原文|元のメッセージ|以下.*(ヘッダ|原文))/i;
const HEADERISH = /^(return-path|received|message-id|from|to|subject|date|mime-version|x-[a-z0-9-]+|dkim-signature|list-id|list-unsubscribe|feedback-id|content-type|cc|reply-to|sender)[ \t]*:/i;

/**
 * Where the quoted original starts in a free-text bounce: the first marker line, else the first
 * run of at least two header-looking lines. Returns -1 when there is none.
 */
export function inlineOriginalStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.length >= 200 || l.length < 8) continue;
    // "The original message was received at …" (Sendmail's first line) is not a marker: a marker
    // is a separator line or says that the original follows.
    if (MARKER.test(l) && (/^[\s\-=*_#>|]/.test(l) || /follow|below|attached|included|enclosed|以下/i.test(l))) return i + 1;
  }
  for (let i = 0; i + 1 < lines.length; i++) {
    if (/^(return-path|received|message-id)[ \t]*:/i.test(lines[i]) && HEADERISH.test(lines[i + 1]) || /^(return-path|received|message-id):/i.test(lines[i]) && /^[ \t]/.test(lines[i + 1])) return i;
  }
  return -1;
}

/** The original's headers quoted inline in a free-text bounce, or null. */
export function originalFromText(text: string): OriginalRef | null {
  const lines = text.slice(0, 256 * 1024).split('\n');
  const start = inlineOriginalStart(lines);
  if (start < 0) return null;
  // Skip blank and indented lines between the marker and the first header field.
  let i = start;
  while (i < lines.length && i < start + 20 && !HEADERISH.test(lines[i].replace(/^[ \t>]+/, ''))) i++;
  const block: string[] = [];
  // Some MTAs indent or ">"-quote the returned headers: strip the first header line's prefix from all.
  const prefix = /^[ \t>]*/.exec(lines[i] ?? '')?.[0] ?? '';
  for (; i < lines.length && block.length < 400; i++) {
    const l = prefix && lines[i].startsWith(prefix) ? lines[i].slice(prefix.length) : lines[i];
    if (!l.trim()) { if (block.length > 1) break; continue; }
    block.push(l);
  }
  return originalFromFields(parseHeaderBlock(block.join('\n')));
}
