import { simpleParser } from 'mailparser';
import type { Resolver } from '../dns/types.js';
import { dkimRules, keyResolver } from './dkim-rules.js';
import { formatRules } from './format-rules.js';
import { splitMessage, type LintFinding } from './headers.js';
import { listRules } from './list-rules.js';

/** The lint's verdict on one message. */
export interface LintResult {
  ok: boolean;
  category: 'subscription' | 'transactional';
  errors: number;
  warnings: number;
  findings: LintFinding[];
  dkim: unknown[];
}

/** Options of the lint: the resolver (DKIM keys, DMARC tree walk) or a public key, the clock, the category. */
export interface LintOptions {
  resolver: Resolver;
  /** Verify DKIM against this public key instead of DNS (PEM, base64 p= or a v=DKIM1 record; a file path with keyFiles). */
  key?: string;
  /** Let `key` name files (the CLI only). */
  keyFiles?: boolean;
  now: number;
  /** `auto` (default): subscription when List-Unsubscribe, List-Unsubscribe-Post or List-Id is present. */
  category?: 'subscription' | 'transactional' | 'auto';
}

/**
 * Lints any message, tegami's or another system's (issue 6 item 3): R-FMT-*, R-UNSUB-*,
 * R-LIST-*, R-AUTH-6/7/8 and DMARC alignment, with DKIM verified through the resolver or a given key.
 */
export async function lintMessage(raw: Buffer, opts: LintOptions): Promise<LintResult> {
  const { headers } = splitMessage(raw);
  const has = (k: string) => headers.some((h) => h.key === k);
  const category = opts.category && opts.category !== 'auto' ? opts.category
    : has('list-unsubscribe') || has('list-unsubscribe-post') || has('list-id') ? 'subscription' : 'transactional';
  const findings: LintFinding[] = [...formatRules(headers, raw)];
  if (category === 'subscription') {
    const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
    findings.push(...listRules(headers, { html: typeof parsed.html === 'string' ? parsed.html : null, text: parsed.text ?? null }));
  } else {
    findings.push({ id: 'scope.transactional', rule: 'R-SCOPE-4', severity: 'info', message: 'No list headers: linted as transactional mail (subscription mail needs one-click unsubscribe)' });
  }
  const resolver = opts.key ? keyResolver(opts.key, { allowFiles: opts.keyFiles }) : opts.resolver;
  const dkim = await dkimRules(raw, headers, { resolver, walk: opts.key ? null : opts.resolver, now: opts.now, oneClick: category === 'subscription' });
  findings.push(...dkim.findings);
  const errors = findings.filter((x) => x.severity === 'error').length;
  return { ok: errors === 0, category, errors, warnings: findings.filter((x) => x.severity === 'warning').length, findings, dkim: dkim.signatures };
}
