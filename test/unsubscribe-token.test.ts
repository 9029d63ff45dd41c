import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createUnsubscribeToken, tokenKeys, verifyUnsubscribeToken } from '../src/domain/unsubscribe-token.js';

describe('unsubscribe tokens (R-UNSUB-3)', () => {
  const keys = tokenKeys(randomBytes(32));
  const p = { accountId: 'acc_01abc', listId: 'lst_01xyz', subject: 'c' as const, subjectId: 123456, issuedAt: 1795400000 };

  it('round-trips and reveals nothing readable about the recipient', () => {
    const t = createUnsubscribeToken(keys, p);
    expect(verifyUnsubscribeToken(keys, t)).toEqual(p);
    expect(t).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(t).not.toContain('@');
  });

  it('rejects every single-character tamper, a wrong key and garbage', () => {
    const t = createUnsubscribeToken(keys, p);
    for (let i = 0; i < t.length; i++) {
      const c = t[i] === 'A' ? 'B' : 'A';
      const bad = t.slice(0, i) + c + t.slice(i + 1);
      if (bad !== t) expect(verifyUnsubscribeToken(keys, bad)).toBeNull();
    }
    expect(verifyUnsubscribeToken(tokenKeys(randomBytes(32)), t)).toBeNull();
    for (const g of ['', 'v1', 'v1.k1.x.y', 'v2.k1.a.b', 'x'.repeat(400)]) expect(verifyUnsubscribeToken(keys, g)).toBeNull();
  });

  it('verifies tokens signed with an older key after rotation', () => {
    const master = randomBytes(32);
    const old = createUnsubscribeToken(tokenKeys(master, ['k1']), p);
    const rotated = tokenKeys(master, ['k2', 'k1']);
    expect(verifyUnsubscribeToken(rotated, old)).toEqual(p);
    expect(createUnsubscribeToken(rotated, p).split('.')[1]).toBe('k2');
  });
});
