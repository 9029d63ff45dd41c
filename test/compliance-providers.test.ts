import { describe, expect, it } from 'vitest';
import { orgDomainOf, providerOf } from '../src/compliance/providers.js';

describe('provider groups and organisational domains (R-SCOPE-1/3)', () => {
  it('counts a From by its address, display name or not, subdomains together', () => {
    for (const from of ['news@example.com', '"Example News" <news@example.com>', 'Example <news@mail.example.com>', 'NEWS@Mail.Example.COM', 'example.com']) {
      expect(orgDomainOf(from), from).toBe('example.com');
    }
    expect(orgDomainOf('"a@b" <x@shop.example.co.jp>')).toBe('example.co.jp');
  });
  it('groups recipient domains by provider; Yahoo Japan is not Yahoo', () => {
    expect(['a@gmail.com', 'a@googlemail.com', 'a@yahoo.co.uk', 'a@aol.com', 'a@hotmail.co.jp', 'a@me.com', 'a@yahoo.co.jp'].map(providerOf))
      .toEqual(['gmail', 'gmail', 'yahoo', 'yahoo', 'outlook', 'icloud', 'other']);
  });
});
