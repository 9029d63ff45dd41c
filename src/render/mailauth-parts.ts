import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The header lines mailauth selected for signing, and the h= names. */
export interface SigningHeaderLines {
  keys: string;
  headers: Array<{ key: string; casedKey: string; line: Buffer }>;
}

/**
 * mailauth's canonicalization and formatting internals, loaded in one place. tegami signs with
 * these parts rather than mailauth's `dkimSign` because that signer neither over-signs (it lists
 * only the header instances present, R-AUTH-6) nor takes a KeyObject (it re-parses the PEM per
 * message). The canonicalization, body hash and header formatting stay mailauth's.
 */
export const mailauthTools = require('mailauth/lib/tools') as {
  parseHeaders(buf: Buffer): { parsed: Array<{ key: string; casedKey: string; line: Buffer }> };
  getSigningHeaderLines(parsed: unknown[], fieldNames: string, verify: boolean): SigningHeaderLines;
  formatSignatureHeaderLine(type: string, values: Record<string, unknown>, folded: boolean): string;
};
export const mailauthHeader = require('mailauth/lib/dkim/header') as {
  generateCanonicalizedHeader(type: string, lines: SigningHeaderLines, opts: Record<string, unknown>): {
    canonicalizedHeader: Buffer;
    dkimHeaderOpts: Record<string, unknown>;
  };
};
export const mailauthBody = require('mailauth/lib/dkim/body') as {
  dkimBody(canon: string, hashAlgo: string, maxBodyLength: number | false): { update(chunk: Buffer): void; digest(enc: 'base64'): string };
};
