/**
 * The one table of stable error codes (DESIGN convention 5). `http` maps `kind` to a
 * status and `inbound` maps it to an SMTP reply, each in one place.
 */
export const ERRORS = {
  E_VALIDATION: { kind: 'invalid', message: 'The request is not valid' },
  E_BAD_ADDRESS: { kind: 'invalid', message: 'The e-mail address is not valid' },
  E_HEADER_INJECTION: { kind: 'invalid', message: 'CR or LF is not allowed in a header field' },
  E_HEADER_FORBIDDEN: { kind: 'invalid', message: 'This header is set by tegami and cannot be supplied' },
  E_CATEGORY_REQUIRED: { kind: 'invalid', message: 'category must be "subscription" or "transactional" (R-SCOPE-4)' },
  E_LIST_REQUIRED: { kind: 'invalid', message: 'Subscription mail must name a list (R-UNSUB-8)' },
  E_CC_ON_SUBSCRIPTION: { kind: 'invalid', message: 'Cc/Bcc are refused on subscription mail (one-click would unsubscribe the To address)' },
  E_TOO_LARGE: { kind: 'too_large', message: 'The payload is too large' },
  E_CSV: { kind: 'invalid', message: 'The CSV file cannot be read' },
  E_TEMPLATE: { kind: 'invalid', message: 'The template cannot be rendered' },
  E_UNAUTHENTICATED: { kind: 'unauthenticated', message: 'A valid API key is required' },
  E_FORBIDDEN: { kind: 'forbidden', message: 'This key or user may not do that' },
  E_NOT_FOUND: { kind: 'not_found', message: 'Not found' },
  E_CONFLICT: { kind: 'conflict', message: 'It already exists' },
  E_STATE: { kind: 'conflict', message: 'Not allowed in the current state' },
  E_IDEMPOTENCY_MISMATCH: { kind: 'conflict', message: 'The Idempotency-Key was used with a different request' },
  E_DOMAIN_UNVERIFIED: { kind: 'unprocessable', message: 'The From domain is not a verified domain of this account (R-AUTH-1, R-AUTH-12)' },
  E_FREEMAIL_DOMAIN: { kind: 'unprocessable', message: 'A mailbox-provider domain cannot be a sending domain (R-AUTH-12)' },
  E_SUPPRESSED: { kind: 'unprocessable', message: 'The recipient is suppressed' },
  E_NO_UNSUBSCRIBE_LINK: { kind: 'unprocessable', message: 'Subscription content needs a visible unsubscribe link (R-UNSUB-10)' },
  E_UNSUBSCRIBE_URL: { kind: 'unprocessable', message: 'One-click unsubscribe needs an https URL (R-UNSUB-1): set http.unsubscribeUrl, http.publicUrl or the domain\'s unsubscribe_host' },
  E_COMPLIANCE: { kind: 'unprocessable', message: 'The message would break a sender rule' },
  // DMARC aggregate reports (issue 9): every refusal of a report has its own code.
  E_DMARC_EMPTY: { kind: 'invalid', message: 'The DMARC report is empty' },
  E_DMARC_FORMAT: { kind: 'invalid', message: 'Not a DMARC aggregate report: expected XML, gzip, zip or an e-mail carrying one' },
  E_DMARC_XML: { kind: 'invalid', message: 'The DMARC report is not well-formed XML' },
  E_DMARC_DOCTYPE: { kind: 'invalid', message: 'XML with a DOCTYPE or entity declaration is refused (XXE, entity expansion)' },
  E_DMARC_ARCHIVE: { kind: 'invalid', message: 'The gzip or zip container is corrupt or unsupported' },
  E_DMARC_BOMB: { kind: 'too_large', message: 'The archive inflates beyond the allowed size or ratio (zip bomb)' },
  E_DMARC_TOO_LARGE: { kind: 'too_large', message: 'The DMARC report is over the size or record limit' },
  E_DMARC_SCHEMA: { kind: 'unprocessable', message: 'The XML is not a valid DMARC aggregate report' },
  E_DMARC_NO_REPORT: { kind: 'unprocessable', message: 'The message carries no DMARC aggregate report' },
  E_RATE_LIMITED: { kind: 'rate_limited', message: 'Too many requests' },
  // Web console (issue 8): login and session-cookie requests.
  E_LOGIN_FAILED: { kind: 'unauthenticated', message: 'The e-mail address or password is wrong, or the user is disabled' },
  E_CSRF: { kind: 'forbidden', message: 'A session request that changes state needs the X-CSRF-Token header of its session' },
  // SMTP relay (issue 7)
  E_RELAY_DENIED: { kind: 'forbidden', message: 'Relaying needs an authenticated SMTP credential (R-INFRA-7)' },
  E_RELAY_MESSAGE: { kind: 'invalid', message: 'The relayed message is not acceptable' },
  E_RELAY_FILTER: { kind: 'invalid', message: 'The relay filter is not valid' },
  E_MASTER_KEY: { kind: 'internal', message: 'The master key is missing or wrong' },
  E_CONFIG: { kind: 'internal', message: 'The configuration is not valid' },
  E_UPSTREAM: { kind: 'upstream', message: 'A service tegami depends on did not answer as expected' },
  E_INTERNAL: { kind: 'internal', message: 'Internal error' },
  // Webhooks and ARC (issue 10)
  E_WEBHOOK_URL: { kind: 'invalid', message: 'The webhook URL is not allowed: https is required, and private, loopback and link-local targets are refused' },
  E_WEBHOOK_TARGET: { kind: 'invalid', message: 'The webhook host resolves to a private, loopback or link-local address' },
  E_WEBHOOK_SECRET: { kind: 'invalid', message: 'A webhook secret must be whsec_ followed by 24 to 64 base64 bytes' },
  E_ARC_SEAL: { kind: 'unprocessable', message: 'The message could not be ARC-sealed' },
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERRORS;
/** The family of an error, mapped to a status or reply by each edge. */
export type ErrorKind = (typeof ERRORS)[ErrorCode]['kind'];

/** The one error type of tegami: a stable code, a message and optional details. */
export class TegamiError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly details?: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code].message);
    this.name = 'TegamiError';
    this.code = code;
    this.kind = ERRORS[code].kind;
    this.details = details;
  }
}

/** Shorthand for throwing a TegamiError. */
export function fail(code: ErrorCode, message?: string, details?: unknown): never {
  throw new TegamiError(code, message, details);
}

/** True when the value is a TegamiError. */
export function isTegamiError(e: unknown): e is TegamiError {
  return e instanceof TegamiError;
}
