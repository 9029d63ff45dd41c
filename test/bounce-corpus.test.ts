import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bounceAction } from '../src/bounce/classify-bounce.js';
import { parseInboundReport } from '../src/bounce/parse-report.js';

/**
 * Our own corpus (test/fixtures/bounces/*.eml, written for this project after the published formats
 * of Postfix, Sendmail, Exim, qmail, Exchange/Office 365, Gmail, Yahoo, a Japanese carrier, Amazon
 * SES over SNS, RFC 3464/6533 DSNs, RFC 5965 ARF from Yahoo CFL and Microsoft JMRP, RFC 3834
 * auto-replies). expected.tsv gives kind, recipients, statuses, class and action per recipient
 * (R-BNC-1..4, R-CMPL-3), and the VERP Return-Path and Message-ID the pipeline matches on.
 */
const DIR = resolve(import.meta.dirname, 'fixtures/bounces');
const rows = readFileSync(resolve(DIR, 'expected.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
const list = (v: string) => (v ? v.split(';') : []);

describe('own bounce, complaint and auto-reply corpus: class and action table', () => {
  it('has at least 40 messages covering every kind', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(['dsn', 'arf', 'autoreply', 'unknown']));
  });

  it.each(rows.map((r) => [r[0], r] as const))('%s', (file, [, kind, recipients, statuses, classes, actions, returnPath, messageId]) => {
    const raw = readFileSync(resolve(DIR, file));
    const r = parseInboundReport(raw);
    expect(r.kind).toBe(kind);
    if (r.kind === 'dsn') {
      expect(r.recipients.map((x) => x.address)).toEqual(list(recipients));
      expect(r.recipients.map((x) => x.status ?? '')).toEqual(statuses ? list(statuses) : r.recipients.map(() => ''));
      expect(r.recipients.map((x) => x.classification.class)).toEqual(list(classes));
      expect(r.recipients.map(bounceAction)).toEqual(list(actions));
      // R-BNC-4: a sender-side verdict never suppresses the recipient.
      for (const x of r.recipients) if (x.classification.holdStream) expect(x.classification.suppress).toBe(false);
    }
    if (r.kind === 'arf') {
      expect(r.feedbackType).toBe(classes);
      expect(r.recipients).toEqual(list(recipients));
    }
    if (r.kind === 'autoreply') expect(r.from).toBe(recipients);
    if (r.kind === 'dsn' || r.kind === 'arf') {
      expect(r.original.returnPath).toBe(returnPath || null);
      expect(r.original.messageId).toBe(messageId || null);
    }
  });

  it('gives the same answers for CRLF line endings', () => {
    for (const [file] of rows) {
      const lf = readFileSync(resolve(DIR, file));
      const crlf = Buffer.from(lf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
      const a = parseInboundReport(lf);
      const b = parseInboundReport(crlf);
      expect(JSON.stringify(b).replace(/\\r/g, ''), file).toBe(JSON.stringify(a));
    }
  });
});
