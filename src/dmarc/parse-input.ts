import { simpleParser } from 'mailparser';
import { fail, isTegamiError } from '../domain/errors.js';
import { ceilingFor, gunzipBounded, unzipBounded } from './inflate.js';
import { parseXmlOffThread } from './parse-xml-thread.js';
import type { ParseLimits, ParsedReport } from './report-types.js';

/** What a byte string looks like, by its first bytes (content types are hints only: SES sends octet-stream). */
export type Sniffed = 'xml' | 'gzip' | 'zip' | 'email' | 'unknown';

/** Sniffs the container of a report by magic bytes. */
export function sniff(buf: Buffer): Sniffed {
  if (buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5) && (buf[3] === 4 || buf[3] === 6)) return 'zip';
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) return 'xml';
  const head = buf.toString('latin1', 0, Math.min(buf.length, 1024)).replace(/^\xef\xbb\xbf/, '').trimStart();
  if (head.startsWith('<')) return 'xml';
  // An RFC 5322 header field (or an mbox "From " line) opens an e-mail.
  if (/^(From [^\r\n]*\r?\n)?[\x21-\x39\x3b-\x7e]{1,76}:/.test(head)) return 'email';
  return 'unknown';
}

/** One report with the name of the file or attachment it came from. */
export interface FoundReport { name: string; report: ParsedReport }

const MAX_DEPTH = 3;

/** The walk's state: one inflation budget for the whole input, however deep the nesting (42.zip). */
interface Walk { limits: ParseLimits; ceiling: number; inflated: number; out: FoundReport[] }

const remaining = (w: Walk) => w.ceiling - w.inflated;

async function walk(buf: Buffer, name: string, depth: number, w: Walk): Promise<void> {
  if (depth > MAX_DEPTH) fail('E_DMARC_FORMAT', `${name}: containers nested more than ${MAX_DEPTH} deep`);
  if (!buf.length || (buf.length <= 65536 && !buf.toString('latin1').trim())) fail('E_DMARC_EMPTY', `${name} is empty`);
  const kind = sniff(buf);
  switch (kind) {
    case 'xml':
      w.out.push({ name, report: await parseXmlOffThread(buf, w.limits) });
      return;
    case 'gzip': {
      const data = await gunzipBounded(buf, remaining(w), name);
      w.inflated += data.length;
      return walk(data, name.replace(/\.gz$/i, ''), depth + 1, w);
    }
    case 'zip': {
      const members = await unzipBounded(buf, remaining(w), name);
      w.inflated += members.reduce((n, m) => n + m.data.length, 0);
      // A zip may hold a README beside the report: read what looks like a report, else every file.
      const reports = members.filter((m) => /\.xml(\.gz)?$/i.test(m.name) || sniff(m.data) !== 'unknown');
      if (!reports.length) fail('E_DMARC_NO_REPORT', `${name} holds no XML report`);
      for (const m of reports) await walk(m.data, m.name, depth + 1, w);
      return;
    }
    case 'email':
      // A report e-mail forwarded as message/rfc822 is read; deeper e-mails are not.
      if (depth > 1) fail('E_DMARC_FORMAT', `${name}: an e-mail nested this deep is not read`);
      return walkEmail(buf, name, depth, w);
    default:
      fail('E_DMARC_FORMAT', `${name}: not XML, gzip, zip or an e-mail`);
  }
}

/** Report e-mails carry the report as an attachment, or as their whole body (Google, Mimecast). */
async function walkEmail(buf: Buffer, name: string, depth: number, w: Walk): Promise<void> {
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = (await simpleParser(buf, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true } as never)) as unknown as typeof mail;
  } catch (e) {
    return fail('E_DMARC_FORMAT', `${name}: the e-mail cannot be read: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  // Text attachments count only when they hold XML (some reporters label the report text/plain).
  const usable = (a: { content: Buffer; contentType: string }) => {
    const k = a.content?.length ? sniff(a.content) : 'unknown';
    return k !== 'unknown' && (!/^text\//i.test(a.contentType) || k === 'xml');
  };
  const parts = mail.attachments.filter(usable);
  if (!parts.length) fail('E_DMARC_NO_REPORT', `${name}: the e-mail has no .xml, .xml.gz or .zip attachment`);
  for (const a of parts) await walk(a.content, a.filename || `${name} (${a.contentType})`, depth + 1, w);
}

/**
 * Unpacks and parses an upload, attachment or file: plain XML, gzip, zip or a whole report e-mail,
 * sniffed by content. Every refusal is a TegamiError with an E_DMARC_* code; nothing else is thrown.
 */
export async function parseReportInput(buf: Buffer, limits: ParseLimits, name = 'input'): Promise<FoundReport[]> {
  if (!buf.length) fail('E_DMARC_EMPTY', `${name} is empty`);
  // An e-mail carries its attachment in base64 (4/3 the bytes) plus headers and text parts.
  const max = sniff(buf) === 'email' ? Math.ceil(limits.maxInputBytes * 4 / 3) + 1024 * 1024 : limits.maxInputBytes;
  if (buf.length > max) fail('E_DMARC_TOO_LARGE', `${name} is ${buf.length} bytes; the limit is ${max}`);
  const w: Walk = { limits, ceiling: ceilingFor(buf.length, { maxBytes: limits.maxXmlBytes, maxRatio: limits.maxRatio }), inflated: 0, out: [] };
  try {
    await walk(buf, name, 0, w);
  } catch (e) {
    if (isTegamiError(e)) throw e;
    fail('E_DMARC_FORMAT', `${name}: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  return w.out;
}
