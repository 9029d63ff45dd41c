import { decodeWords } from './mime-headers.js';

/**
 * The fields of a `message/delivery-status` or `message/global-delivery-status` body (RFC 3464
 * §2.2–2.3, RFC 6533): one per-message group, then one group per recipient, blank-line separated.
 * Real MTAs omit blank lines, repeat groups or fold lines oddly, so grouping also starts a new
 * recipient when a recipient-identifying field repeats.
 */

/** Per-recipient DSN fields (raw values, lowercased names). */
export type DsnFieldGroup = Record<string, string>;

/** The parsed body: per-message fields and recipient groups. */
export interface DsnFields {
  message: DsnFieldGroup;
  recipients: DsnFieldGroup[];
}

const PER_MESSAGE = new Set(['reporting-mta', 'dsn-gateway', 'received-from-mta', 'arrival-date', 'original-envelope-id']);
const RECIPIENT_KEYS = new Set(['final-recipient', 'original-recipient', 'x-actual-recipient']);
const RECIPIENT_FIELDS = new Set([...RECIPIENT_KEYS, 'action', 'status', 'remote-mta', 'diagnostic-code', 'last-attempt-date', 'final-log-id', 'will-retry-until', 'x-display-name']);
const MAX_RECIPIENTS = 100;
const FIELD = /^([A-Za-z][A-Za-z0-9-]{0,60})[ \t]*:[ \t]*(.*)$/;

/** Parses the status body text (already decoded to a string). */
export function parseDsnFields(text: string): DsnFields {
  const out: DsnFields = { message: {}, recipients: [] };
  let cur: DsnFieldGroup | null = null;
  let last: { group: DsnFieldGroup; name: string } | null = null;
  let blank = false;
  for (const rawLine of text.slice(0, 256 * 1024).split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (!line.trim()) { blank = true; last = null; continue; }
    if (/^[ \t]/.test(line) && last) {
      // Folded line (RFC 5322 §2.2.3): continue the previous field's value.
      if (last.group[last.name].length < 8192) last.group[last.name] += ' ' + line.trim();
      continue;
    }
    const m = FIELD.exec(line);
    if (!m) { last = null; continue; }
    const name = m[1].toLowerCase();
    const value = m[2].trim();
    if (PER_MESSAGE.has(name) && !RECIPIENT_KEYS.has(name) && (!cur || blank) && !(name in out.message)) {
      out.message[name] = value;
      last = { group: out.message, name };
      blank = false;
      continue;
    }
    if (RECIPIENT_FIELDS.has(name)) {
      const startNew = !cur || (blank && hasRecipientField(cur)) || (RECIPIENT_KEYS.has(name) && name in cur) || (name in cur && name !== 'diagnostic-code');
      if (startNew) {
        if (out.recipients.length >= MAX_RECIPIENTS) break;
        cur = {};
        out.recipients.push(cur);
      }
    } else if (!cur) {
      if (!(name in out.message)) out.message[name] = value;
      last = { group: out.message, name };
      blank = false;
      continue;
    }
    const group = cur as DsnFieldGroup;
    if (name in group) group[name] += ' ' + value;
    else group[name] = value;
    last = { group, name };
    blank = false;
  }
  out.recipients = out.recipients.filter(hasRecipientField);
  return out;
}

function hasRecipientField(g: DsnFieldGroup): boolean {
  return 'final-recipient' in g || 'original-recipient' in g || 'x-actual-recipient' in g || ('action' in g && 'status' in g);
}

/**
 * The address of a recipient field value: `rfc822; user@example.com`, `utf-8; …` (RFC 6533,
 * with `\x{HH}` escapes), or a bare address. The domain is lowercased; null when none is there.
 */
export function addressFromField(value: string | undefined | null): string | null {
  if (!value) return null;
  let v = value.trim();
  const semi = v.indexOf(';');
  let type = '';
  if (semi >= 0 && semi < 20) { type = v.slice(0, semi).trim().toLowerCase(); v = v.slice(semi + 1).trim(); }
  if (type === 'utf-8') v = v.replace(/\\x\{([0-9A-Fa-f]{1,6})\}/g, (_m, h: string) => safeCodePoint(parseInt(h, 16)));
  if (/\?=/.test(v)) v = decodeWords(v);
  return cleanAddress(v);
}

function safeCodePoint(n: number): string {
  return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
}

/** Normalises an address token: strips brackets, quotes, `mailto:` and trailing dots; lowercases the domain. */
export function cleanAddress(token: string): string | null {
  let v = token.trim();
  const angle = /<([^<>\s]{1,320}@[^<>\s]{1,255})>/.exec(v);
  if (angle) v = angle[1];
  v = v.replace(/^mailto:/i, '').replace(/^["'(\[]+|["')\].,;:]+$/g, '');
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1 || v.length > 320 || /[\s<>()]/.test(v)) return null;
  const local = v.slice(0, at);
  const domain = v.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (!/^[^\s@]+\.[^\s@]+$|^\[[0-9a-f:.]+\]$/i.test(domain) && !/^[a-z0-9-]+$/i.test(domain)) return null;
  return `${local}@${domain}`;
}

/** The host of a `dns; host` style field (Reporting-MTA, Remote-MTA). */
export function hostFromField(value: string | undefined | null): string | null {
  if (!value) return null;
  const v = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  const t = v.trim().split(/\s+/)[0]?.replace(/^\[|\]$/g, '') ?? '';
  return t ? t.slice(0, 255) : null;
}

/** The diagnostic text of a `smtp; 550 5.1.1 …` field without its type. */
export function diagnosticFromField(value: string | undefined | null): string | null {
  if (!value) return null;
  const m = /^(smtp|x-[a-z0-9-]{1,40}|unix|mail|local|x400|[a-z0-9-]{1,20})\s*;\s*/i.exec(value);
  const text = (m ? value.slice(m[0].length) : value).replace(/\s+/g, ' ').trim();
  return text ? text.slice(0, 2000) : null;
}
