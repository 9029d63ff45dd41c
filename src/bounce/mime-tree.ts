import {
  decodeCharset, decodeTransfer, getHeader, headerEnd, parseContentType, parseHeaderBlock,
  type ContentType, type HeaderField,
} from './mime-headers.js';

/**
 * A synchronous MIME walker for reports. mailparser folds `message/delivery-status` into the text
 * and is stream-based, so DSN and ARF parsing walks the parts itself (DESIGN.md, library facts).
 * Limits keep hostile input bounded: input size, nesting depth and part count.
 */

/** One MIME entity. `body` is the raw (still transfer-encoded) body as a binary string. */
export interface MimeNode {
  headers: HeaderField[];
  ct: ContentType;
  body: string;
  children: MimeNode[];
  /** For message/rfc822, message/global and similar: the enclosed message. */
  message: MimeNode | null;
  depth: number;
}

/** Caps applied while walking. */
export const MIME_LIMITS = { maxBytes: 2 * 1024 * 1024, maxDepth: 12, maxParts: 200 };

interface WalkState {
  parts: number;
}

/** Parses a whole message (bytes) into a tree. Never throws on malformed input. */
export function parseMime(raw: Buffer): MimeNode {
  const s = raw.subarray(0, MIME_LIMITS.maxBytes).toString('latin1');
  return parseEntity(s, 0, { parts: 0 });
}

/** Parses an entity held in a binary string. */
export function parseEntity(s: string, depth: number, st: WalkState): MimeNode {
  st.parts++;
  const end = headerEnd(s);
  const headerText = end.at < 0 ? s : s.slice(0, end.at);
  const body = end.at < 0 ? '' : s.slice(end.at + end.sep);
  const headers = parseHeaderBlock(headerText);
  const ct = parseContentType(getHeader(headers, 'content-type'));
  const node: MimeNode = { headers, ct, body, children: [], message: null, depth };
  if (depth >= MIME_LIMITS.maxDepth || st.parts >= MIME_LIMITS.maxParts) return node;
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary || guessBoundary(body);
    if (boundary) for (const p of splitMultipart(body, boundary)) {
      if (st.parts >= MIME_LIMITS.maxParts) break;
      node.children.push(parseEntity(p, depth + 1, st));
    }
  } else if (isEnclosedMessage(ct.type)) {
    const inner = decodeTransfer(body, getHeader(headers, 'content-transfer-encoding')).toString('latin1');
    node.message = parseEntity(inner, depth + 1, st);
  }
  return node;
}

/** Types whose body is a whole message (RFC 2046 §5.2, RFC 6532 §3.7). */
export function isEnclosedMessage(type: string): boolean {
  return type === 'message/rfc822' || type === 'message/global' || type === 'message/partial' || type === 'message/rfc2822';
}

/** A multipart whose Content-Type lost its boundary: take the first `--token` line as the delimiter. */
function guessBoundary(body: string): string | null {
  const m = /(?:^|\n)--([ -~]{1,70}?)[ \t]*\r?\n/.exec(body.slice(0, 8192));
  return m && !m[1].endsWith('--') ? m[1] : null;
}

/** Splits a multipart body at its delimiter lines (RFC 2046 §5.1.1); the preamble and epilogue are dropped. */
export function splitMultipart(body: string, boundary: string): string[] {
  const delim = '--' + boundary;
  const parts: string[] = [];
  let start = -1;
  let i = body.startsWith(delim) ? 0 : body.indexOf('\n' + delim);
  if (i >= 0 && !body.startsWith(delim)) i += 1;
  while (i >= 0) {
    const lineEnd = body.indexOf('\n', i);
    const line = body.slice(i, lineEnd < 0 ? body.length : lineEnd);
    const rest = line.slice(delim.length);
    const closing = rest.startsWith('--');
    // A delimiter line may only carry trailing white space; anything else is text that starts like one.
    if (closing || /^[ \t]*\r?$/.test(rest)) {
      if (start >= 0) parts.push(trimDelimNewline(body.slice(start, i)));
      if (closing) return parts;
      start = lineEnd < 0 ? body.length : lineEnd + 1;
    }
    if (lineEnd < 0) break;
    const next = body.indexOf('\n' + delim, lineEnd);
    i = next < 0 ? -1 : next + 1;
  }
  // No closing delimiter (truncated report): keep what was read.
  if (start >= 0 && start < body.length) parts.push(body.slice(start));
  return parts;
}

function trimDelimNewline(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}

/** The decoded text of a leaf part, capped. */
export function nodeText(node: MimeNode, cap = 256 * 1024): string {
  const bytes = decodeTransfer(node.body.slice(0, cap * 2), getHeader(node.headers, 'content-transfer-encoding'));
  return decodeCharset(bytes.subarray(0, cap), node.ct.params.charset).replace(/\r\n?/g, '\n');
}

/** Depth-first list of every node (enclosed messages included when `intoMessages`). */
export function flatten(node: MimeNode, intoMessages = false, out: MimeNode[] = []): MimeNode[] {
  out.push(node);
  for (const c of node.children) flatten(c, intoMessages, out);
  if (intoMessages && node.message) flatten(node.message, intoMessages, out);
  return out;
}
