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
  E_RATE_LIMITED: { kind: 'rate_limited', message: 'Too many requests' },
  E_MASTER_KEY: { kind: 'internal', message: 'The master key is missing or wrong' },
  E_CONFIG: { kind: 'internal', message: 'The configuration is not valid' },
  E_INTERNAL: { kind: 'internal', message: 'Internal error' },
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
