import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInboundReport } from '../src/bounce/parse-report.js';

/**
 * Table test over the whole ARF manifest (../shared/fixtures/arf/manifest.tsv, 18 messages:
 * RFC 5965 abuse reports, RFC 6591 auth-failure reports, look-alikes). R-CMPL-3: the complaint's
 * recipient (Original-Rcpt-To, else the original To) and the original's Message-ID/Return-Path
 * are what the pipeline suppresses and matches on.
 *
 * Policy for the look-alikes (the manifest leaves it open): the Exim DMARC forensic text report is
 * not a complaint (`unknown`); the multipart/mixed Hotmail complaint with the original enclosed is
 * `abuse`; Apple Mail's X-Apple-Unsubscribe message is `opt-out` from its sender.
 */
const DIR = resolve(import.meta.dirname, '../../shared/fixtures/arf');
const present = existsSync(resolve(DIR, 'manifest.tsv'));
if (!present && process.env.CI === 'true') throw new Error(`ARF fixtures missing at ${DIR}`);

const LOOKALIKE: Record<string, { kind: string; feedbackType?: string; recipients?: string[] }> = {
  'parsedmarc-exim_plain_text_only_no_arf_part.eml': { kind: 'unknown' },
  'arf-22.eml': { kind: 'arf', feedbackType: 'abuse', recipients: ['kijitora@example.com'] },
  'arf-26.eml': { kind: 'arf', feedbackType: 'opt-out', recipients: ['example@icloud.com'] },
};

const norm = (v: string) => v.split(';').map((x) => x.trim().replace(/^<|>$/g, '')).filter(Boolean);

describe.skipIf(!present)('real ARF samples: the whole manifest', () => {
  const rows = present ? readFileSync(resolve(DIR, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')) : [];

  it('holds 18 rows', () => expect(rows.length).toBe(18));

  it.each(rows.map((r) => [r[0], r] as const))('%s', (file, f) => {
    const [, , feedbackType, userAgent, , sourceIp, reportedDomain, , rcptTo, arrivalDate] = f;
    const r = parseInboundReport(readFileSync(resolve(DIR, file)));
    const special = LOOKALIKE[file];
    if (special) {
      expect(r.kind).toBe(special.kind);
      if (r.kind === 'arf') {
        expect(r.feedbackType).toBe(special.feedbackType);
        expect(r.recipients).toEqual(special.recipients);
      }
      return;
    }
    expect(r.kind).toBe('arf');
    if (r.kind !== 'arf') return;
    expect(r.feedbackType).toBe(feedbackType);
    expect(r.userAgent).toBe(userAgent || null);
    expect(r.sourceIp).toBe(sourceIp ? sourceIp.split(' ')[0] : null);
    expect(r.reportedDomain).toBe(reportedDomain ? norm(reportedDomain)[0] : null);
    if (rcptTo) expect(r.recipients).toEqual(norm(rcptTo));
    else expect(r.recipients.length).toBeLessThanOrEqual(1); // the original's To, when it has one
    expect(r.arrivalDate).toBe(arrivalDate || null);
    // Every real report here carries its original: something to match on (R-CMPL-3).
    expect(r.original.messageId ?? r.original.returnPath ?? r.original.headers.from).toBeTruthy();
  });

  it('agreement over the ARF manifest is 100 %', () => {
    let ok = 0;
    for (const f of rows) {
      const r = parseInboundReport(readFileSync(resolve(DIR, f[0])));
      const want = LOOKALIKE[f[0]]?.kind ?? 'arf';
      if (r.kind === want && (r.kind !== 'arf' || LOOKALIKE[f[0]] || r.feedbackType === f[2])) ok++;
    }
    console.log(`ARF manifest agreement over ${rows.length}: kind and feedback type ${((ok / rows.length) * 100).toFixed(1)}%`);
    expect(ok).toBe(rows.length);
  });
});
