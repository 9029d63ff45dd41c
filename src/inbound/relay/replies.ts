import { isTegamiError, type ErrorCode } from '../../domain/errors.js';
import { replyCodes, smtpError } from '../replies.js';

/** Relay-specific replies by code, with enhanced status codes (RFC 3463); the rest follow the error kind. */
const BY_CODE: Partial<Record<ErrorCode, [number, string]>> = {
  E_RELAY_DENIED: [530, '5.7.0'],
  E_DOMAIN_UNVERIFIED: [550, '5.7.1'],
  E_CC_ON_SUBSCRIPTION: [550, '5.7.1'],
  E_UNSUBSCRIBE_URL: [451, '4.3.5'],
  E_RELAY_MESSAGE: [554, '5.6.0'],
  E_BAD_ADDRESS: [553, '5.1.3'],
  E_RATE_LIMITED: [451, '4.7.1'],
  E_TOO_LARGE: [552, '5.3.4'],
  E_COMPLIANCE: [550, '5.7.1'],
};
/** Any error as a relay reply; unexpected errors are temporary so the client's queue retries. */
export function relayReply(err: unknown): Error & { responseCode: number } {
  if (isTegamiError(err)) {
    // Submission refuses content, not addresses, for invalid input (5.6.0); the rest follow the shared table.
    const [code, enh] = BY_CODE[err.code] ?? (err.kind === 'invalid' ? [554, '5.6.0'] : replyCodes(err.kind));
    return smtpError(code, enh, `${err.message.replace(/[\r\n]+/g, ' ').slice(0, 400)} [${err.code}]`);
  }
  return smtpError(451, '4.3.0', 'temporary local problem, try again later');
}

export { smtpError };
