import { fail } from './errors.js';

/**
 * Header names tegami sets itself; a client may never supply or override them (R-FMT-4,
 * R-UNSUB-1, R-LIST-1/3, R-AUTH-6..8).
 */
const OWNED = new Set([
  'from', 'to', 'cc', 'bcc', 'subject', 'date', 'message-id', 'reply-to', 'sender', 'mime-version',
  'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id', 'list-unsubscribe',
  'list-unsubscribe-post', 'list-id', 'list-help', 'list-subscribe', 'list-post', 'list-owner', 'list-archive',
  'feedback-id', 'dkim-signature', 'return-path', 'received', 'authentication-results', 'arc-seal',
  'arc-message-signature', 'arc-authentication-results', 'received-spf', 'delivered-to', 'x-tegami-list',
]);
const FTEXT = /^[\x21-\x39\x3b-\x7e]{1,76}$/; // RFC 5322 field name: printable ASCII except ':'
const MAX_TOTAL = 16 * 1024; // R-FMT-6 [PLATFORM]

/** Throws E_HEADER_INJECTION when a value carries CR, LF or NUL (no header injection). */
export function assertNoCrLf(field: string, value: string): void {
  if (/[\r\n\0]/.test(value)) fail('E_HEADER_INJECTION', `${field}: CR, LF and NUL are not allowed`, { field });
}

/** Validates client-supplied extra headers; returns them with canonical names kept as given. */
export function validateExtraHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  let total = 0;
  for (const [name, value] of Object.entries(h ?? {})) {
    assertNoCrLf(`headers.${name}`, name);
    assertNoCrLf(`headers.${name}`, String(value));
    if (!FTEXT.test(name)) fail('E_VALIDATION', `headers: "${name}" is not a valid field name`);
    const lower = name.toLowerCase();
    if (OWNED.has(lower) || lower.startsWith('content-')) fail('E_HEADER_FORBIDDEN', `headers: ${name} is set by tegami`, { header: name });
    if (seen.has(lower)) fail('E_VALIDATION', `headers: ${name} appears twice (R-FMT-4)`);
    if (typeof value !== 'string') fail('E_VALIDATION', `headers: ${name} must be a string`);
    if (/[^\x20-\x7e\t\u0080-\uffff]/.test(value)) fail('E_VALIDATION', `headers: ${name} has control characters`);
    seen.add(lower);
    total += name.length + value.length + 4;
    if (total > MAX_TOTAL) fail('E_TOO_LARGE', 'headers: more than 16 KB in total (R-FMT-6)');
    out[name] = value;
  }
  return out;
}

/** `<https://…>, <mailto:…>`: one HTTPS URI first, mailto second, no whitespace inside brackets (R-UNSUB-1/2/13). */
export function listUnsubscribeValue(url: string, mailto: string): string {
  for (const [f, v] of [['url', url], ['mailto', mailto]]) {
    if (/[\s<>,]/.test(v)) fail('E_VALIDATION', `List-Unsubscribe ${f} must not contain whitespace, brackets or commas`);
  }
  if (!url.startsWith('https://')) fail('E_VALIDATION', 'List-Unsubscribe needs an https URI (R-UNSUB-1)');
  if (!mailto.startsWith('mailto:')) fail('E_VALIDATION', 'the second List-Unsubscribe URI must be mailto:');
  return `<${url}>, <${mailto}>`;
}

/** The byte-exact List-Unsubscribe-Post value (RFC 8058 §5). */
export const LIST_UNSUBSCRIBE_POST = 'List-Unsubscribe=One-Click';

const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * `"Name" <label.namespace>` per RFC 2919: dot-atom id of at most 255 octets; the phrase is
 * quoted (ASCII) or passed to `encodePhrase` (non-ASCII, RFC 2047) (R-LIST-1/2).
 */
export function listIdValue(name: string, label: string, namespace: string, encodePhrase: (s: string) => string): string {
  const id = `${label}.${namespace}`;
  if (!DOT_ATOM.test(id) || id.length > 255) fail('E_VALIDATION', `List-Id "${id}" is not a valid list-id (R-LIST-2)`);
  assertNoCrLf('list name', name);
  const clean = name.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  if (!clean) return `<${id}>`;
  const phrase = /^[\x20-\x7e]*$/.test(clean) ? `"${clean.replace(/(["\\])/g, '\\$1')}"` : encodePhrase(clean);
  return `${phrase} <${id}>`;
}
