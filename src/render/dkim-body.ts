import { createHash } from 'node:crypto';
import { mailauthBody } from './mailauth-parts.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const CRLF = Buffer.from('\r\n');

/**
 * The positions of the bare LFs (LF without CR before it) of a body that relaxed body
 * canonicalization (RFC 6376 §3.4.4) leaves alone within its lines: no HTAB, no run of two or
 * more SP, no SP before a line break or at the very end, no CR outside a CRLF. null when the body
 * has any of those. Only a bare LF becoming CRLF and the rule on empty lines at the end are then
 * left to apply.
 */
function bareLineFeeds(body: Uint8Array): number[] | null {
  const bare: number[] = [];
  const n = body.length;
  let prevSp = false;
  for (let i = 0; i < n; i++) {
    const c = body[i];
    if (c > SP) {
      prevSp = false;
      continue;
    }
    if (c === SP) {
      if (prevSp) return null;
      prevSp = true;
    } else if (c === CR) {
      if (prevSp || i + 1 >= n || body[i + 1] !== LF) return null;
      i++;
    } else if (c === LF) {
      if (prevSp) return null;
      bare.push(i);
    } else if (c === TAB) {
      return null;
    } else {
      prevSp = false;
    }
  }
  return prevSp ? null : bare;
}

/** Whether relaxedBodyHash hashes this body natively (tests check that both of its paths are exercised). */
export function needsNoLineRewriting(body: Buffer): boolean {
  return bareLineFeeds(body) !== null;
}

/**
 * The relaxed/relaxed SHA-256 body hash (base64) exactly as mailauth's `dkimBody('relaxed/relaxed',
 * 'sha256', false)` computes it, and never with l= (R-AUTH-7). When the lines need no rewriting
 * (the common case for tegami's own QP/base64/7bit bodies) the canonical body is the body with
 * each bare LF made CRLF, the empty lines at the end dropped and, if anything is left, one CRLF
 * at the end; it goes through one native hash in a few slices. Anything else goes through
 * mailauth's line-by-line hasher. test/dkim-body.test.ts compares the two.
 */
export function relaxedBodyHash(body: Buffer): string {
  const bare = bareLineFeeds(body);
  if (!bare) return mailauthBodyHash(body);
  let end = body.length;
  while (end > 0 && body[end - 1] === LF) end -= end > 1 && body[end - 2] === CR ? 2 : 1;
  const h = createHash('sha256');
  if (end > 0) {
    let from = 0;
    for (const at of bare) {
      if (at >= end) break;
      h.update(body.subarray(from, at)).update(CRLF);
      from = at + 1;
    }
    h.update(body.subarray(from, end)).update(CRLF);
  }
  return h.digest('base64');
}

/** mailauth's own relaxed body hasher (the reference, and the path for bodies that need rewriting). */
export function mailauthBodyHash(body: Buffer): string {
  const hasher = mailauthBody.dkimBody('relaxed/relaxed', 'sha256', false);
  hasher.update(body);
  return hasher.digest('base64');
}
