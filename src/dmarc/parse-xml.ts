import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { fail, isTegamiError } from '../domain/errors.js';
import type { DkimAuthResult, ParsedRecord, ParsedReport, PublishedPolicy, SpfAuthResult } from './report-types.js';

type Node = Record<string, unknown>;

/**
 * Entities stay unexpanded in the parser (processEntities false) and DOCTYPE is refused before
 * parsing, so neither external entities (XXE) nor entity expansion (billion laughs) can happen.
 * Values are decoded below for the five predefined entities and character references only.
 */
const parser = new XMLParser({
  ignoreAttributes: true, removeNSPrefix: true, processEntities: false, htmlEntities: false,
  parseTagValue: false, parseAttributeValue: false, trimValues: true, ignoreDeclaration: true, ignorePiTags: true,
  commentPropName: false, cdataPropName: false,
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeRefs(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (m, r: string) => {
    if (r[0] !== '#') return PREDEFINED[r];
    const cp = r[1] === 'x' ? parseInt(r.slice(2), 16) : parseInt(r.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** Decodes the bytes: BOM first, then the XML declaration's encoding, else UTF-8. */
export function decodeXml(buf: Buffer): string {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  if (buf[0] === 0xff && buf[1] === 0xfe) return new TextDecoder('utf-16le').decode(buf.subarray(2));
  if (buf[0] === 0xfe && buf[1] === 0xff) return new TextDecoder('utf-16be').decode(buf.subarray(2));
  const decl = /^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']/.exec(buf.subarray(0, 300).toString('latin1'));
  const label = decl?.[1].toLowerCase();
  if (label && label !== 'utf-8' && label !== 'utf8') {
    try { return new TextDecoder(label).decode(buf); } catch { /* unknown label: fall back to UTF-8 */ }
  }
  return buf.toString('utf8');
}

const str = (v: unknown, max = 255): string => {
  if (Array.isArray(v)) v = v[0];
  if (v && typeof v === 'object') v = (v as Node)['#text'] ?? '';
  if (v === undefined || v === null) return '';
  return decodeRefs(String(v)).trim().slice(0, max);
};
const node = (v: unknown): Node => {
  if (Array.isArray(v)) v = v[0];
  return v && typeof v === 'object' ? (v as Node) : {};
};
const nodes = (v: unknown): Node[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]).map(node);
/** Result words are compared lower-case (some reporters write Pass/None). */
const word = (v: unknown) => str(v, 64).toLowerCase();

/** A non-negative integer; `fraction` tolerates a decimal part (a few reporters write epoch seconds as 1700000000.0). */
function intOf(v: unknown, field: string, fraction = false): number {
  const s = str(v, 40);
  if (!(fraction ? /^\d{1,15}(\.\d{1,9})?$/ : /^\d{1,15}$/).test(s)) fail('E_DMARC_SCHEMA', `${field} must be a non-negative integer (got "${s.slice(0, 20)}")`);
  return Math.floor(Number(s));
}

function parseRecord(r: Node, i: number): ParsedRecord {
  const row = node(r.row);
  // The old draft schema and some reporters put these beside <row> instead of inside it.
  const pe = node(row.policy_evaluated ?? r.policy_evaluated);
  const ids = node(r.identifiers ?? r.identities ?? row.identifiers);
  const auth = node(r.auth_results ?? row.auth_results);
  const sourceIp = str(row.source_ip ?? r.source_ip, 64);
  if (!sourceIp) fail('E_DMARC_SCHEMA', `record ${i + 1}: source_ip is missing`);
  const dkimResults: DkimAuthResult[] = nodes(auth.dkim).map((d) => ({
    domain: str(d.domain).toLowerCase(), selector: str(d.selector), result: word(d.result), humanResult: str(d.human_result, 500),
  }));
  const spfResults: SpfAuthResult[] = nodes(auth.spf).map((s) => ({ domain: str(s.domain).toLowerCase(), scope: word(s.scope), result: word(s.result) }));
  return {
    sourceIp,
    count: intOf(row.count ?? r.count, `record ${i + 1}: count`),
    disposition: word(pe.disposition), dkim: word(pe.dkim), spf: word(pe.spf),
    reasons: nodes(pe.reason).map((x) => ({ type: word(x.type), comment: str(x.comment, 500) })).filter((x) => x.type || x.comment),
    headerFrom: str(ids.header_from).toLowerCase(), envelopeFrom: str(ids.envelope_from).toLowerCase(), envelopeTo: str(ids.envelope_to).toLowerCase(),
    dkimResults, spfResults,
  };
}

function parsePolicy(p: Node): PublishedPolicy {
  const domain = str(p.domain).toLowerCase().replace(/\.$/, '');
  if (!domain) fail('E_DMARC_SCHEMA', 'policy_published/domain is missing');
  return {
    domain, adkim: word(p.adkim), aspf: word(p.aspf), p: word(p.p), sp: word(p.sp), np: word(p.np),
    testing: word(p.testing), discoveryMethod: word(p.discovery_method), pct: str(p.pct, 10), fo: str(p.fo, 20),
  };
}

/** The report namespace on the root element (attributes are dropped by the parser, so read it here). */
function namespaceOf(xml: string): string {
  const root = /<(?:[A-Za-z_][\w.-]*:)?feedback\b[^>]{0,2000}>/.exec(xml.slice(0, 8192))?.[0] ?? '';
  const all = [...root.matchAll(/\sxmlns(:[\w.-]+)?\s*=\s*["']([^"']{1,200})["']/g)].map((m) => ({ prefixed: !!m[1], uri: m[2] }));
  return (all.find((x) => /dmarc/i.test(x.uri)) ?? all.find((x) => !x.prefixed))?.uri ?? '';
}

/**
 * Parses aggregate report XML (RFC 7489 Appendix C, RFC 9990, the old dmarc.org draft). Refuses
 * DOCTYPE and entity declarations (E_DMARC_DOCTYPE), XML that is not well-formed (E_DMARC_XML)
 * and XML that is not a report (E_DMARC_SCHEMA). Never throws anything but a TegamiError.
 */
export function parseAggregateXml(buf: Buffer, limits: { maxXmlBytes: number; maxRecords: number }): ParsedReport {
  if (!buf.length || !buf.toString('latin1', 0, Math.min(buf.length, 4096)).trim()) fail('E_DMARC_EMPTY');
  if (buf.length > limits.maxXmlBytes) fail('E_DMARC_TOO_LARGE', `the XML is ${buf.length} bytes; the limit is ${limits.maxXmlBytes}`);
  // Leading whitespace before the XML declaration is not well-formed, but transports add it: tolerate it.
  const xml = decodeXml(buf).trimStart();
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) fail('E_DMARC_DOCTYPE');
  let doc: Node;
  try {
    const v = XMLValidator.validate(xml);
    if (v !== true) fail('E_DMARC_XML', `not well-formed XML: ${v.err.msg} (line ${v.err.line}, column ${v.err.col})`);
    doc = parser.parse(xml) as Node;
  } catch (e) {
    if (isTegamiError(e)) throw e;
    // Parser failures (including a stack overflow on absurd nesting) are bad input, not a crash.
    fail('E_DMARC_XML', `not well-formed XML: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  const fb = doc.feedback;
  if (!fb || typeof fb !== 'object' || Array.isArray(fb)) fail('E_DMARC_SCHEMA', 'the root element is not <feedback>');
  return reportOf(fb as Node, xml, limits.maxRecords);
}

function reportOf(fb: Node, xml: string, maxRecords: number): ParsedReport {
  const meta = node(fb.report_metadata);
  const reportId = str(meta.report_id, 1000);
  if (!reportId) fail('E_DMARC_SCHEMA', 'report_metadata/report_id is missing');
  if (reportId.length > 255) fail('E_DMARC_SCHEMA', 'report_metadata/report_id is longer than 255 characters');
  const range = node(meta.date_range);
  const a = intOf(range.begin, 'date_range/begin', true);
  const b = intOf(range.end, 'date_range/end', true);
  // A reporter that swapped begin and end still reported a period: keep it, in order.
  const [dateBegin, dateEnd] = a <= b ? [a, b] : [b, a];
  const raw = fb.record === undefined ? [] : Array.isArray(fb.record) ? fb.record : [fb.record];
  if (raw.length > maxRecords) fail('E_DMARC_TOO_LARGE', `${raw.length} records; the limit is ${maxRecords}`);
  return {
    version: str(fb.version, 20), namespace: namespaceOf(xml),
    orgName: str(meta.org_name), email: str(meta.email), extraContactInfo: str(meta.extra_contact_info, 500),
    reportId, dateBegin, dateEnd,
    errors: (meta.error === undefined ? [] : Array.isArray(meta.error) ? meta.error : [meta.error]).map((e) => str(e, 500)).filter(Boolean).slice(0, 50),
    policy: parsePolicy(node(fb.policy_published)),
    records: raw.map((r, i) => parseRecord(node(r), i)),
  };
}
