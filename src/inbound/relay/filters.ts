import { fail } from '../../domain/errors.js';
import { valuesOf, type HeaderField } from './message-headers.js';

/** A filter as the matcher needs it. */
export interface FilterRule {
  id: string;
  header: string;
  match: string;
  value: string;
  list_id: string;
}

/** Header names a filter may not test: tegami rewrites or owns them, so matching them would be circular or spoofable. */
const UNFILTERABLE = new Set(['dkim-signature', 'received', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'feedback-id', 'return-path', 'bcc']);
const MAX_VALUE = 200;

/** Validates a filter's header name, match kind and value; returns the lower-cased header name. */
export function validateFilter(f: { header: string; match: string; value: string }): string {
  if (typeof f.header !== 'string' || !/^[\x21-\x39\x3b-\x7e]{1,76}$/.test(f.header)) fail('E_RELAY_FILTER', 'header: a header field name (printable ASCII, no colon)', { field: 'header' });
  const header = f.header.toLowerCase();
  if (UNFILTERABLE.has(header)) fail('E_RELAY_FILTER', `header: ${f.header} is written by tegami and cannot be a filter header`, { field: 'header' });
  if (f.match !== 'exact' && f.match !== 'regex') fail('E_RELAY_FILTER', 'match: "exact" or "regex"', { field: 'match' });
  if (typeof f.value !== 'string' || !f.value.length || f.value.length > MAX_VALUE || /[\r\n\0]/.test(f.value)) {
    fail('E_RELAY_FILTER', `value: 1-${MAX_VALUE} characters, no CR/LF`, { field: 'value' });
  }
  if (f.match === 'regex') {
    try {
      new RegExp(f.value);
    } catch (e) {
      fail('E_RELAY_FILTER', `value: not a valid regular expression: ${(e as Error).message}`, { field: 'value' });
    }
  }
  return header;
}

const compiled = new Map<string, RegExp>();
function regexOf(source: string): RegExp {
  let r = compiled.get(source);
  if (!r) {
    r = new RegExp(source);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(source, r);
  }
  return r;
}

/**
 * The first rule, in order, that matches a header of the message (issue 7 item 2): `exact` compares
 * the unfolded, trimmed value byte for byte; `regex` tests it (values are capped at 998 octets by
 * RFC 5322, patterns at 200 characters). Null = transactional mail.
 */
export function matchFilter<T extends FilterRule>(rules: T[], fields: HeaderField[]): T | null {
  for (const r of rules) {
    for (const v of valuesOf(fields, r.header)) {
      const value = v.slice(0, 998);
      if (r.match === 'exact' ? value === r.value : regexOf(r.value).test(value)) return r;
    }
  }
  return null;
}
