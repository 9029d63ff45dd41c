import { isTegamiError, type ErrorKind } from '../domain/errors.js';

/** The one mapping from error kinds to SMTP replies (DESIGN convention 5). */
const REPLY: Record<ErrorKind, [number, string]> = {
  invalid: [550, '5.1.1'],
  unauthenticated: [535, '5.7.8'],
  forbidden: [550, '5.7.1'],
  not_found: [550, '5.1.1'],
  conflict: [451, '4.3.0'],
  too_large: [552, '5.3.4'],
  unprocessable: [550, '5.7.1'],
  rate_limited: [451, '4.7.1'],
  internal: [451, '4.3.0'],
  upstream: [451, '4.4.0'],
};

/**
 * Reply code and enhanced status of an error kind. After DATA an invalid or unprocessable input
 * is the message's content, not the address (RFC 3463 5.6.0).
 */
export function replyCodes(kind: ErrorKind, stage: 'rcpt' | 'data' = 'rcpt'): [number, string] {
  return stage === 'data' && (kind === 'invalid' || kind === 'unprocessable') ? [554, '5.6.0'] : REPLY[kind];
}

/** An Error smtp-server turns into a reply with this code and enhanced status. */
export function smtpError(code: number, enhanced: string, text: string): Error & { responseCode: number } {
  const e = new Error(`${enhanced} ${text}`) as Error & { responseCode: number };
  e.responseCode = code;
  return e;
}

/** Any thrown error as an SMTP reply; unexpected errors are temporary (the sender retries). */
export function replyFor(err: unknown, stage: 'rcpt' | 'data' = 'rcpt'): Error & { responseCode: number } {
  if (isTegamiError(err)) {
    const [code, enh] = replyCodes(err.kind, stage);
    return smtpError(code, enh, err.message.replace(/[\r\n]/g, ' '));
  }
  return smtpError(451, '4.3.0', 'temporary local problem, try again later');
}
