/** One finding of the message lint. */
export interface LintFinding {
  id: string;
  rule: string;
  severity: 'error' | 'warning' | 'info' | 'pass';
  message: string;
  /** The header line or excerpt the finding is about. */
  evidence?: string;
}

/** A raw header field: name as written and the unfolded value. */
export interface RawHeader { name: string; key: string; value: string; raw: string }

/** Splits raw bytes into header fields (unfolded) and the body; tolerant of LF-only input. */
export function splitMessage(raw: Buffer): { headers: RawHeader[]; body: string; headerText: string } {
  const text = raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(text);
  const headerText = m ? text.slice(0, m.index) : text;
  const body = m ? text.slice(m.index + m[0].length) : '';
  const headers: RawHeader[] = [];
  for (const line of headerText.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) {
      const h = headers[headers.length - 1];
      h.value += ' ' + line.trim();
      h.raw += '\r\n' + line;
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    headers.push({ name, key: name.toLowerCase(), value: line.slice(i + 1).trim(), raw: line });
  }
  return { headers, body, headerText };
}

/** Tags of a tag=value; list (DKIM-Signature), whitespace removed from values. */
export function tagList(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).replace(/\s+/g, '');
  }
  return out;
}

/** Header names that appear at most once (RFC 5322 §3.6, RFC 2369 §3, RFC 2919 §3, RFC 8058 §3.1; R-FMT-4). */
export const SINGLE = ['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'date', 'message-id', 'in-reply-to', 'references',
  'list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'feedback-id', 'mime-version', 'content-type'];

/** Mailboxes in an address-list value (commas outside quotes, comments and angle brackets). */
export function countMailboxes(value: string): number {
  let depth = 0; let quoted = false; let angle = false; let n = 0; let seen = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\') { i++; continue; }
    if (quoted) { if (ch === '"') quoted = false; continue; }
    if (ch === '"') { quoted = true; continue; }
    if (ch === '(') { depth++; continue; }
    if (ch === ')') { depth = Math.max(0, depth - 1); continue; }
    if (depth) continue;
    if (ch === '<') angle = true;
    if (ch === '>') angle = false;
    if (ch === '@') seen = true;
    if (ch === ',' && !angle) { if (seen) n++; seen = false; }
  }
  return n + (seen ? 1 : 0);
}

/** The address of a From value (the last angle-addr, else the bare addr-spec). */
export function addressOf(value: string): string | null {
  const angle = [...value.matchAll(/<([^<>]+)>/g)].pop();
  const a = (angle ? angle[1] : value.replace(/\([^)]*\)/g, '')).trim();
  return /^[^\s@]+@[^\s@]+$/.test(a) ? a : null;
}
