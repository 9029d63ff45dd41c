import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { relaxedBodyHash } from './dkim-body.js';
import { mailauthSignatureOpts, mailauthTools } from './mailauth-parts.js';

/** The keys a message is signed with: RSA first, Ed25519 in addition (R-AUTH-13). */
export interface SigningKeys {
  domain: string;
  rsa: { selector: string; privateKey: KeyObject };
  ed25519: { selector: string; privateKey: KeyObject };
}

/**
 * Every header name in h=, each over-signed once (R-AUTH-6, R-AUTH-8, R-LIST-3): a later added
 * instance of any of them (a second From, an injected List-Unsubscribe) breaks the signature.
 */
export const SIGNED_HEADERS = [
  'from', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to', 'mime-version', 'content-type',
  'list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'feedback-id', 'in-reply-to', 'references',
];
const SIGNED_HEADER_LIST = SIGNED_HEADERS.join(':');

function splitMessage(raw: Buffer): { head: Buffer; body: Buffer } {
  const i = raw.indexOf('\r\n\r\n');
  if (i < 0) return { head: raw, body: Buffer.alloc(0) };
  return { head: raw.subarray(0, i + 2), body: raw.subarray(i + 4) };
}

/** h= with every present instance (bottom-up, as mailauth selects them) plus one absent instance per name. */
function overSigned(lines: { keys: string; headers: Array<{ key: string; casedKey: string; line: Buffer }> }) {
  const names = lines.headers.map((h) => h.casedKey);
  return { keys: [...names, ...SIGNED_HEADERS].join(': '), headers: lines.headers };
}

/**
 * Prepends two DKIM-Signature fields (rsa-sha256, then ed25519-sha256) with c=relaxed/relaxed
 * and no l= (R-AUTH-5..8, R-AUTH-13). Signing is the last step: call it after every header change.
 * The body hash and the canonicalized header fields are computed once and shared by both
 * signatures: mailauth's relaxedHeaders canonicalizes every signed field and then appends the
 * DKIM-Signature line being built, so only that last line differs between the two algorithms.
 * Each piece is mailauth's own (formatRelaxedLine, buildSignatureOpts, stripSignatureValue,
 * formatSignatureHeaderLine); test/dkim-sign.test.ts checks the bytes equal those of signing
 * through generateCanonicalizedHeader per algorithm.
 */
export function signMessage(raw: Buffer, keys: SigningKeys, opts: { now?: number } = {}): Buffer {
  const { head, body } = splitMessage(raw);
  const bodyHash = relaxedBodyHash(body);
  const parsed = mailauthTools.parseHeaders(head).parsed;
  const lines = overSigned(mailauthTools.getSigningHeaderLines(parsed, SIGNED_HEADER_LIST, false));
  const timestamp = Math.floor((opts.now ?? Date.now()) / 1000);
  const fields = lines.headers.map((h) => mailauthTools.formatRelaxedLine(h.line, '\r\n'));
  const out: string[] = [];
  for (const [algorithm, k] of [['rsa-sha256', keys.rsa], ['ed25519-sha256', keys.ed25519]] as const) {
    const { opts: dkimHeaderOpts, signatureHeaderLine } = mailauthSignatureOpts.buildSignatureOpts('DKIM', lines, {
      signingDomain: keys.domain, selector: k.selector, algorithm, canonicalization: 'relaxed/relaxed',
      bodyHash, timestamp, expiration: false,
    });
    const canonicalizedHeader = Buffer.concat([...fields, mailauthTools.stripSignatureValue(mailauthTools.formatRelaxedLine(signatureHeaderLine))]);
    // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the canonicalized header.
    const b = algorithm === 'rsa-sha256'
      ? cryptoSign('sha256', canonicalizedHeader, k.privateKey)
      : cryptoSign(null, createHash('sha256').update(canonicalizedHeader).digest(), k.privateKey);
    dkimHeaderOpts.b = b.toString('base64');
    out.push(mailauthTools.formatSignatureHeaderLine('DKIM', dkimHeaderOpts, true));
  }
  return Buffer.concat([Buffer.from(out.join('\r\n') + '\r\n'), raw]);
}
