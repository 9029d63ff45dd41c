import emailAddresses from 'email-addresses';
import { describe, expect, it } from 'vitest';
import { addressKey, parseMailbox, tryParseAddress } from '../src/domain/address.js';

describe('addresses (issue 2 item 7, issue 4 item 1)', () => {
  it('canonical keys: lower case, A-label domains, Gmail dots and +tags dropped', () => {
    const key = (a: string) => (tryParseAddress(a) as { value: { key: string } }).value.key;
    expect(key('Foo.Bar+x@Gmail.com')).toBe('foobar@gmail.com');
    expect(key('foo.bar@googlemail.com')).toBe('foobar@gmail.com');
    expect(key('Foo.Bar+x@example.com')).toBe('foo.bar+x@example.com');
    expect(key('user@メール.example')).toBe('user@xn--4dkua4c.example');
    expect(addressKey('A', 'example.jp')).toBe('a@example.jp');
  });

  it('rejects bad syntax, lengths, literals, quoted local parts and CR/LF with a reason', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/], ['plain', /syntax/], ['a@b', /syntax|domain/], ['a@@b.jp', /syntax/], ['a b@c.jp', /syntax/],
      [`${'x'.repeat(65)}@example.jp`, /64 octets/], ['a@[127.0.0.1]', /literal/], ['"q"@example.jp', /quoted/],
      ['a@b.jp\r\nBcc: x@y.jp', /CR or LF/], ['a@-bad.jp', /domain|syntax/], ['a@exa_mple.jp', /domain|syntax/], ['a.@b.jp', /syntax/],
    ];
    for (const [a, re] of bad) {
      const r = tryParseAddress(a);
      expect(r.ok, a).toBe(false);
      if (!r.ok) expect(r.reason, a).toMatch(re);
    }
  });

  it('the fast path and email-addresses agree on a sample of valid and invalid inputs', () => {
    const sample = ['a@b.jp', 'first.last@sub.example.co.jp', "o'reilly@example.com", 'x+y=z@example.org', 'a..b@example.jp', '.a@b.jp', 'a@b..jp', 'a@b.jp.', 'user@123.example', 'a@b.c1', 'ü@example.de'];
    for (const s of sample) {
      const full = emailAddresses.parseOneAddress({ input: s, rfc6532: true, rejectTLD: true, startAt: 'addr-spec' } as never) !== null;
      const ours = tryParseAddress(s).ok;
      expect(ours, s).toBe(full);
    }
  });

  it('From must be exactly one mailbox (R-FMT-2)', () => {
    expect(parseMailbox('"山田" <yamada@example.jp>')).toMatchObject({ name: '山田', address: 'yamada@example.jp' });
    expect(() => parseMailbox('a@example.jp, b@example.jp')).toThrow(expect.objectContaining({ code: 'E_BAD_ADDRESS' }));
    expect(() => parseMailbox('group: a@example.jp;')).toThrow(expect.objectContaining({ code: 'E_BAD_ADDRESS' }));
  });
});
