import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SISIMAI_REASONS } from '../src/bounce/sisimai-reasons.js';
import { parseReasonRules } from '../src/bounce/reasons.js';

/** The documented reason table (docs/bounce-classes.md) and the code table are the same table. */
const DOC = readFileSync(resolve(import.meta.dirname, '../docs/bounce-classes.md'), 'utf8');
const MANIFEST = resolve(import.meta.dirname, '../../shared/fixtures/bounces/manifest.tsv');

function docRows(): Map<string, { cls: string; action: string }> {
  const section = DOC.slice(DOC.indexOf('## Sisimai reasons'), DOC.indexOf('## Measured agreement'));
  const out = new Map<string, { cls: string; action: string }>();
  for (const line of section.split('\n')) {
    const m = /^\| ([a-z]+) \| ([a-z_]+) \| ([a-z, ]+) \| /.exec(line);
    if (m && m[1] !== 'reason') out.set(m[1], { cls: m[2], action: m[3] });
  }
  return out;
}

describe('Sisimai reason table (docs/bounce-classes.md = src/bounce/sisimai-reasons.ts)', () => {
  it('lists every reason of the code table with the same class and action, and nothing else', () => {
    const doc = docRows();
    expect([...doc.keys()].sort()).toEqual(Object.keys(SISIMAI_REASONS).sort());
    for (const [reason, a] of Object.entries(SISIMAI_REASONS)) {
      const action = [a.suppress && 'suppress', a.count && 'count', a.hold && 'hold', a.backoff && 'backoff'].filter(Boolean).join(', ') || 'none';
      expect(doc.get(reason), reason).toEqual({ cls: a.class, action });
    }
  });

  it('covers the 35 reasons of the Sisimai taxonomy named by the fixture README', () => {
    const named = 'authfailure badreputation blocked contenterror delivered exceedlimit expired failedstarttls feedback filtered hasmoved hostunknown mailboxfull mailererror mesgtoobig networkerror norelaying notaccept notcompliantrfc onhold policyviolation rejected requireptr securityerror spamdetected speeding suspend syntaxerror systemerror systemfull toomanyconn undefined userunknown vacation virusdetected'.split(' ');
    expect(named.length).toBe(35);
    for (const r of named) expect(SISIMAI_REASONS[r], r).toBeDefined();
  });

  it.skipIf(!existsSync(MANIFEST))('knows every reason the manifest uses', () => {
    const reasons = readFileSync(MANIFEST, 'utf8').trim().split('\n').slice(1).flatMap((l) => l.split('\t')[2].split(';'));
    for (const r of reasons) if (r !== 'none') expect(SISIMAI_REASONS[r], r).toBeDefined();
  });

  it('never suppresses and holds at once; address classes suppress, sender classes hold (R-BNC-2, R-BNC-4)', () => {
    for (const [reason, a] of Object.entries(SISIMAI_REASONS)) {
      expect(a.suppress && a.hold, reason).toBe(false);
      if (a.class === 'hard_bounce') expect(a.suppress, reason).toBe(true);
      if (a.class === 'sender_config') expect(a.hold && !a.suppress, reason).toBe(true);
    }
  });

  it('rejects a reasons.txt line with an unknown reason or a bad code, naming the line', () => {
    expect(() => parseReasonRules('a | 5.1.1 | * | userunknown\nb | 5.1.1 | * | nosuchreason', 'r.txt')).toThrow('r.txt:2: unknown reason');
    expect(() => parseReasonRules('a | 5.1 | * | userunknown', 'r.txt')).toThrow('r.txt:1: bad code pattern');
    expect(() => parseReasonRules('a | 5.1.1 | userunknown', 'r.txt')).toThrow('expected 4 fields');
    expect(parseReasonRules('# comment\n\na | x.1.1 | * | userunknown')).toHaveLength(1);
  });
});
