/** One DKIM result of a record's auth_results. */
export interface DkimAuthResult { domain: string; selector: string; result: string; humanResult: string }
/** One SPF result of a record's auth_results. */
export interface SpfAuthResult { domain: string; scope: string; result: string }
/** A policy override reason of policy_evaluated. */
export interface PolicyReason { type: string; comment: string }

/** One `<record>` of an aggregate report, normalised (result words lower-cased, values trimmed). */
export interface ParsedRecord {
  sourceIp: string;
  count: number;
  disposition: string;
  /** policy_evaluated: the DMARC-aligned DKIM and SPF results as the reporter saw them. */
  dkim: string;
  spf: string;
  reasons: PolicyReason[];
  headerFrom: string;
  envelopeFrom: string;
  envelopeTo: string;
  dkimResults: DkimAuthResult[];
  spfResults: SpfAuthResult[];
}

/** policy_published: what the domain's DMARC record said when the reporter evaluated it. */
export interface PublishedPolicy {
  domain: string;
  adkim: string;
  aspf: string;
  p: string;
  sp: string;
  /** RFC 9990 (DMARCbis): policy for non-existent subdomains, test mode, discovery method. */
  np: string;
  testing: string;
  discoveryMethod: string;
  /** RFC 7489 only (removed by RFC 9989). */
  pct: string;
  fo: string;
}

/** An aggregate report (RFC 7489 Appendix C or RFC 9990), normalised. */
export interface ParsedReport {
  /** The `<version>` element ('' when absent) and the XML namespace, if any. */
  version: string;
  namespace: string;
  orgName: string;
  email: string;
  extraContactInfo: string;
  reportId: string;
  /** Epoch seconds as the reporter wrote them. */
  dateBegin: number;
  dateEnd: number;
  errors: string[];
  policy: PublishedPolicy;
  records: ParsedRecord[];
}

/** Limits applied while unpacking and parsing (config.dmarc). */
export interface ParseLimits {
  maxInputBytes: number;
  maxXmlBytes: number;
  maxRatio: number;
  maxRecords: number;
}
