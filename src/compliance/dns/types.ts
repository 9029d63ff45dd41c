import type { Resolver } from '../../transport/mx.js';

export type { Resolver };

/** One DNS question and its answer, as shown in a finding's evidence (R-PROOF-1). */
export interface DnsAnswer {
  name: string;
  type: string;
  /** The records, or null when the query failed. */
  answer: unknown[] | null;
  /** ENOTFOUND (NXDOMAIN), ENODATA (no records of the type), or a transient error code. */
  error?: string;
}

/** How bad a finding is: `error` blocks (or would block) sending, `warning` is shown, `pass`/`info` document. */
export type Severity = 'error' | 'warning' | 'info' | 'pass';

/** The record to publish (or change) to fix a finding. */
export interface FixRecord { type: string; name: string; value: string; note?: string }

/** One result of a domain check: rule id, severity, evidence and the fix. */
export interface Finding {
  /** Stable check id, e.g. `spf.permerror`, `dkim.mismatch`, `dmarc.no_policy`. */
  id: string;
  rule: string;
  severity: Severity;
  message: string;
  evidence: DnsAnswer[];
  fix: FixRecord | null;
}

/** What the send path gates on (R-AUTH-2, R-AUTH-3). */
export interface CheckGates {
  /** Every active DKIM key is published at its selector and equal to the stored key (d= is the From domain: aligned). */
  dkim: boolean | null;
  /** A DMARC record applies to the From domain and states an explicit, valid p=. Null: DNS failed, unknown. */
  dmarc: boolean | null;
}

/** A whole domain check as stored on the domain (domains.check_json). */
export interface DomainCheck {
  domain: string;
  return_path_domain: string;
  checked_at: number;
  ok: boolean;
  gates: CheckGates;
  findings: Finding[];
}

/** Wraps a resolver so each sub-check collects the questions it asked (its evidence). */
export class Recorder {
  readonly log: DnsAnswer[] = [];
  constructor(private readonly resolver: Resolver) {}
  /** The mailauth-style resolver that records. */
  readonly resolve: Resolver = async (name, type) => {
    try {
      const raw = (await this.resolver(name, type)) as unknown;
      // node:dns answers SOA with one object, everything else with an array.
      const answer = raw == null ? [] : Array.isArray(raw) ? raw : [raw];
      this.log.push({ name, type, answer: simplify(answer) });
      return answer;
    } catch (e) {
      this.log.push({ name, type, answer: null, error: (e as { code?: string }).code ?? (e as Error).message });
      throw e;
    }
  };
  /** Records of a type, [] when the name has none (NXDOMAIN/NODATA); transient errors propagate. */
  async get(name: string, type: string): Promise<any[]> {
    try {
      return await this.resolve(name, type);
    } catch (e) {
      if (isNoData(e)) return [];
      throw e;
    }
  }
  /** TXT strings (character-strings joined) of a name. */
  async txt(name: string): Promise<string[]> {
    return (await this.get(name, 'TXT')).map((r) => (Array.isArray(r) ? r.join('') : String(r)));
  }
  /** Evidence since a mark (the answers one finding is based on). */
  since(mark: number): DnsAnswer[] {
    return this.log.slice(mark);
  }
}

const simplify = (a: unknown[]) => a.map((r) => (Array.isArray(r) ? r.join('') : r));

/** True for "the name has no such records" (not a transient failure). */
export function isNoData(e: unknown): boolean {
  return ['ENOTFOUND', 'ENODATA'].includes((e as { code?: string }).code ?? '');
}

/** Builds a finding. */
export function finding(id: string, rule: string, severity: Severity, message: string, evidence: DnsAnswer[], fix: FixRecord | null = null): Finding {
  return { id, rule, severity, message, evidence, fix };
}
