import { describe, expect, it } from 'vitest';
import { plainAddressKey, tryParseAddress } from '../src/domain/address.js';

/** The full parse's key, or null when it refuses the address. */
const fullKey = (a: string) => {
  const r = tryParseAddress(a);
  return r.ok ? r.value.key : null;
};

describe('plainAddressKey: the full parse\'s key, without the parse, for plain addresses (issue 4)', () => {
  it('gives the full parse\'s key for plain addresses and leaves everything else to it', () => {
    const plain = ['a@b.jp', 'First.Last@Sub.Example.CO.JP', "o'reilly+tag@example.com", 'x=y{z}@a-b.example', 'a--b@example.jp', 'a@b.c1', `${'x'.repeat(64)}@example.jp`];
    for (const a of plain) expect(plainAddressKey(a), a).toBe(fullKey(a));
    const full = [
      'A.B+x@Gmail.com', 'a.b@googlemail.com', 'a.b@GMAIL.COM', 'user@xn--4dkua4c.example', 'user@XN--4dkua4c.example', 'a@ab--cd.jp',
      'user@メール.example', 'ü@example.de', ' a@b.jp', 'a@b.jp ', 'a@b.jp.', `${'x'.repeat(65)}@example.jp`, `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(61)}.jp`,
      '"q"@example.jp', 'a@[127.0.0.1]', 'a@1.2.3.4', 'a@b', 'a..b@c.jp', '', 'a@b.jp\n',
    ];
    for (const a of full) expect(plainAddressKey(a), a).toBeNull();
  });

  it('agrees with the full parse on 50,000 random addresses: equal key, or left to it', () => {
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
    const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)];
    const localChars = ['a', 'Z', '0', '.', '.', '+', '-', '_', "'", '!', '~', '"', ' ', 'ü', '@'];
    const domainChars = ['a', 'Q', '9', '-', '-', '.', '.', '_', 'é', 'x', 'n'];
    const tails = ['.jp', '.com', '.c1', '', '.', '.xn--p1ai', '.co.jp'];
    const domains = ['gmail.com', 'Googlemail.com', 'GMAIL.com', 'xn--4dkua4c.example', 'example.jp'];
    let plainSeen = 0;
    for (let n = 0; n < 50_000; n++) {
      let local = '';
      for (let i = Math.floor(rand() * 8); i >= 0; i--) local += pick(localChars);
      if (rand() < 0.05) local = local.repeat(20);
      let domain = '';
      if (rand() < 0.2) domain = pick(domains);
      else {
        for (let i = Math.floor(rand() * 10); i >= 0; i--) domain += pick(domainChars);
        domain += pick(tails);
      }
      if (rand() < 0.02) domain = `${'a'.repeat(63)}.${domain}`.repeat(3);
      const a = `${local}@${domain}`;
      const k = plainAddressKey(a);
      if (k !== null) {
        plainSeen++;
        expect(k, a).toBe(fullKey(a));
      }
    }
    expect(plainSeen).toBeGreaterThan(1000);
  });
});
