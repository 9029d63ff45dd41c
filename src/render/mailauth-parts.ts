// Static imports (not createRequire) so the render-thread bundle (render-bundle.ts) inlines them.
import tools from 'mailauth/lib/tools.js';
import header from 'mailauth/lib/dkim/header/index.js';
import body from 'mailauth/lib/dkim/body/index.js';
import signatureOpts from 'mailauth/lib/dkim/header/signature-opts.js';

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
export const mailauthTools = tools;
export const mailauthHeader = header;
export const mailauthBody = body;
/** buildSignatureOpts: the tags and the to-be-signed DKIM-Signature line relaxedHeaders builds (src/render/dkim.ts). */
export const mailauthSignatureOpts = signatureOpts;
