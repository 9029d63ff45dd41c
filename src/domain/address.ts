import { domainToASCII, domainToUnicode } from 'node:url';
import emailAddresses from 'email-addresses';
import { fail } from './errors.js';

/** A validated mailbox: the address as it will be sent, and its canonical key. */
export interface Address {
  /** local@domain with the domain as an A-label (lower-cased); the local part as given. */
  address: string;
  local: string;
  /** A-label, lower-cased. */
  domain: string;
  /** The key used for suppressions and contact de-duplication. */
  key: string;
  /** True when the local part has non-ASCII characters (needs SMTPUTF8, R-EAI-1). */
  utf8Local: boolean;
}

const MAX_LOCAL = 64; // RFC 5321 §4.5.3.1.1
const MAX_DOMAIN = 253; // RFC 5321 §4.5.3.1.2 minus the dots' framing
const MAX_PATH = 254; // RFC 5321 reverse/forward path (256) minus angle brackets
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);
/**
 * Fast path for the common case: an ASCII dot-atom local part and an LDH domain are valid
 * RFC 5322 addr-specs, so email-addresses' full parser (~30k/s) is needed only for the rest.
 * A test checks that both paths agree.
 */
const FAST_ADDR = /^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)$/;

// toALabel is pure and bulk input repeats few domains (a million-row suppression import: ~1 µs of
// its ~1.4 µs per address), so results are memoised; the map is dropped whole when it fills.
const A_LABELS = new Map<string, string | null>();

/** Turns a domain into its lower-case A-label form, or null when it is not a valid host name. */
export function toALabel(domain: string): string | null {
  let v = A_LABELS.get(domain);
  if (v !== undefined) return v;
  v = toALabelUncached(domain);
  if (A_LABELS.size >= 10_000) A_LABELS.clear();
  A_LABELS.set(domain, v);
  return v;
}

function toALabelUncached(domain: string): string | null {
  const trimmed = domain.trim().replace(/\.$/, '');
  if (!trimmed || /[\s\u0000-\u001f\u007f]/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed).toLowerCase();
  if (!ascii || ascii.length > MAX_DOMAIN) return null;
  const labels = ascii.split('.');
  if (labels.length < 2) return null;
  for (const l of labels) {
    if (l.length < 1 || l.length > 63) return null;
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(l)) return null;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return null; // no numeric TLD
  return ascii;
}

/** The Unicode (U-label) form of a domain for display. */
export function toULabel(domain: string): string {
  return domainToUnicode(domain) || domain;
}

/**
 * The canonical key of an address: lower-cased, domain as A-label; for Gmail the dots and
 * +tags of the local part are dropped because they reach the same mailbox.
 */
export function addressKey(local: string, domainALabel: string): string {
  let l = local.toLowerCase();
  const d = domainALabel === 'googlemail.com' ? 'gmail.com' : domainALabel;
  if (GMAIL_DOMAINS.has(domainALabel)) {
    l = l.split('+')[0].replace(/\./g, '');
  }
  return `${l}@${d}`;
}

/**
 * FAST_ADDR without captures, for plainAddressKey. Labels are 1-63 characters; the last one
 * starts with a letter (no numeric TLD).
 */
const PLAIN_ADDR = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * The canonical key of a plain address without the full parse, or null when tryParseAddress is
 * needed: for an ASCII dot-atom local part of at most 64 characters, an LDH domain without "--"
 * (so no A-label to check and nothing for IDNA to map but case), at most 254 characters in all,
 * not at Gmail (whose key rewrites the local part), the key is the address lower-cased, which is
 * what tryParseAddress makes of it. A bulk import's rows are nearly all like this (issue 4: the
 * full parse is ~0.45 µs an address, most of a million-row import's validation). A test checks
 * that both agree on every input this accepts.
 */
export function plainAddressKey(input: string): string | null {
  if (input.length > MAX_PATH || !PLAIN_ADDR.test(input)) return null;
  const at = input.indexOf('@');
  if (at > MAX_LOCAL || input.indexOf('--', at) >= 0) return null;
  const key = input.toLowerCase();
  if (key.endsWith('@gmail.com') || key.endsWith('@googlemail.com')) return null;
  return key;
}

/** Parses and validates one bare address (addr-spec), or returns a reason why not. */
export function tryParseAddress(input: string): { ok: true; value: Address } | { ok: false; reason: string } {
  if (typeof input !== 'string') return { ok: false, reason: 'not a string' };
  const raw = input.trim();
  if (!raw) return { ok: false, reason: 'empty address' };
  if (/[\r\n]/.test(raw)) return { ok: false, reason: 'CR or LF in address' };
  if (raw.length > 320) return { ok: false, reason: 'address too long' };
  const fast = FAST_ADDR.exec(raw);
  const parsed = fast ? { local: fast[1], domain: fast[2] } : emailAddresses.parseOneAddress({ input: raw, rfc6532: true, rejectTLD: true, startAt: 'addr-spec' } as never) as
    | { local: string; domain: string }
    | null;
  if (!parsed) return { ok: false, reason: 'invalid address syntax' };
  const local = parsed.local;
  if (raw.startsWith('"') || local.startsWith('"')) return { ok: false, reason: 'quoted local parts are not accepted' };
  if (Buffer.byteLength(local, 'utf8') > MAX_LOCAL) return { ok: false, reason: 'local part longer than 64 octets' };
  if (parsed.domain.startsWith('[')) return { ok: false, reason: 'address literals are not accepted' };
  const domain = toALabel(parsed.domain);
  if (!domain) return { ok: false, reason: 'invalid domain' };
  const address = `${local}@${domain}`;
  if (Buffer.byteLength(address, 'utf8') > MAX_PATH) return { ok: false, reason: 'address longer than 254 octets' };
  const utf8Local = /[^\x00-\x7f]/.test(local);
  return { ok: true, value: { address, local, domain, key: addressKey(local, domain), utf8Local } };
}

/** Parses one bare address or throws E_BAD_ADDRESS. */
export function parseAddress(input: string, field = 'address'): Address {
  const r = tryParseAddress(input);
  if (!r.ok) fail('E_BAD_ADDRESS', `${field}: ${r.reason}`, { field, reason: r.reason });
  return r.value;
}

/** A mailbox with an optional display name, e.g. a From field. */
export interface Mailbox extends Address {
  name: string | null;
}

/**
 * Parses exactly one mailbox (`Name <a@b>` or `a@b`); a list or group is refused (R-FMT-2).
 */
export function parseMailbox(input: string, field = 'from'): Mailbox {
  if (typeof input !== 'string' || /[\r\n]/.test(input)) fail('E_HEADER_INJECTION', `${field}: CR or LF is not allowed`);
  const list = emailAddresses.parseAddressList({ input, rfc6532: true, rejectTLD: true } as never) as
    | Array<{ type: string; name: string | null; address: string }>
    | null;
  if (!list || list.length !== 1 || list[0].type !== 'mailbox') {
    fail('E_BAD_ADDRESS', `${field}: exactly one mailbox is required (R-FMT-2)`, { field });
  }
  const addr = parseAddress(list[0].address, field);
  return { ...addr, name: list[0].name ?? null };
}
