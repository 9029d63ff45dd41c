import { describe, expect, it } from 'vitest';
import { aligned, classifyRecord, sendingIpList, type ClassifyContext, type ClassifyInput } from '../src/dmarc/classify.js';

const ctx: ClassifyContext = {
  sendingIps: sendingIpList('203.0.113.0/24, 2001:db8::1 ip4:198.51.100.250'),
  selectors: new Map([['shop.example', new Set(['tg2026a', 'tg2026e'])], ['news.shop.example', new Set(['tgnews'])]]),
};

type Row = [name: string, input: Partial<ClassifyInput>, expected: { class: string; dmarcPass: boolean; dkimAligned?: boolean; spfAligned?: boolean; tegamiKey?: boolean }];

const base: ClassifyInput = {
  sourceIp: '192.0.2.1', headerFrom: 'shop.example', dkim: '', spf: '', dkimResults: [], spfResults: [], reasons: [], adkim: 'r', aspf: 'r',
};
const dk = (domain: string, selector: string, result = 'pass') => ({ domain, selector, result, humanResult: '' });
const sp = (domain: string, result = 'pass', scope = 'mfrom') => ({ domain, scope, result });

/** R-AUTH-4 alignment and the issue 9 classes, one row per case. */
const TABLE: Row[] = [
  ['tegami IP, everything aligned', { sourceIp: '203.0.113.7', dkim: 'pass', spf: 'pass', dkimResults: [dk('shop.example', 'tg2026a')], spfResults: [sp('bounces.shop.example')] }, { class: 'tegami', dmarcPass: true, tegamiKey: true }],
  ['tegami IP (IPv6), DKIM broken: still ours, but not passing', { sourceIp: '2001:db8::1', dkim: 'fail', spf: 'fail', dkimResults: [dk('shop.example', 'tg2026a', 'fail')] }, { class: 'tegami', dmarcPass: false }],
  ['tegami IP listed with an ip4: prefix', { sourceIp: '198.51.100.250', spfResults: [sp('bounces.shop.example')] }, { class: 'tegami', dmarcPass: true, spfAligned: true }],
  ['tegami selector from another IP with SPF pass (new relay IP)', { sourceIp: '192.0.2.50', dkimResults: [dk('shop.example', 'TG2026E')], spfResults: [sp('bounces.shop.example')] }, { class: 'tegami', dmarcPass: true, tegamiKey: true }],
  ['subdomain key of the account, relaxed alignment', { headerFrom: 'news.shop.example', dkimResults: [dk('news.shop.example', 'tgnews')], spfResults: [sp('bounces.shop.example')] }, { class: 'tegami', dmarcPass: true, tegamiKey: true }],
  ['tegami selector but SPF fails: forwarded tegami mail', { sourceIp: '192.0.2.60', dkimResults: [dk('shop.example', 'tg2026a')], spfResults: [sp('shop.example', 'fail')] }, { class: 'forwarder', dmarcPass: true, dkimAligned: true, spfAligned: false }],
  ['other service, aligned DKIM, SPF pass on its own domain', { dkimResults: [dk('shop.example', 'google')], spfResults: [sp('esp.example.net')] }, { class: 'authorized', dmarcPass: true, dkimAligned: true, spfAligned: false }],
  ['other service, aligned SPF only (no DKIM)', { spfResults: [sp('mail.shop.example')] }, { class: 'authorized', dmarcPass: true, dkimAligned: false, spfAligned: true }],
  ['other service per policy_evaluated only (old reporter without auth_results)', { dkim: 'pass', spf: 'pass' }, { class: 'authorized', dmarcPass: true }],
  ['forwarder: aligned DKIM survives, SPF softfail', { dkimResults: [dk('shop.example', 's1')], spfResults: [sp('shop.example', 'softfail')] }, { class: 'forwarder', dmarcPass: true }],
  ['forwarder: aligned DKIM, no SPF result at all', { dkimResults: [dk('shop.example', 's1')] }, { class: 'forwarder', dmarcPass: true }],
  ['forwarder per the reporter\'s override reason', { dkim: 'fail', spf: 'fail', reasons: [{ type: 'forwarded', comment: '' }], dkimResults: [dk('shop.example', 's1')], spfResults: [sp('shop.example', 'pass')] }, { class: 'forwarder', dmarcPass: true }],
  ['spoofing: nothing passes', { dkim: 'fail', spf: 'fail', spfResults: [sp('shop.example', 'fail')] }, { class: 'failing', dmarcPass: false }],
  ['spoofing: DKIM passes for the attacker\'s own domain (unaligned), SPF fails', { dkimResults: [dk('attacker.example', 'x')], spfResults: [sp('attacker.example', 'fail')] }, { class: 'failing', dmarcPass: false }],
  ['lookalike: SPF pass for a lookalike domain is not aligned', { spfResults: [sp('shop-example.com')] }, { class: 'failing', dmarcPass: false }],
  ['strict DKIM: subdomain signature does not align', { adkim: 's', headerFrom: 'shop.example', dkimResults: [dk('mail.shop.example', 's1')], spfResults: [sp('x.example', 'fail')] }, { class: 'failing', dmarcPass: false }],
  ['strict SPF: return path subdomain does not align, relaxed DKIM does', { aspf: 's', dkimResults: [dk('shop.example', 's1')], spfResults: [sp('bounces.shop.example')] }, { class: 'authorized', dmarcPass: true, spfAligned: false, dkimAligned: true }],
  ['SPF helo scope does not count for alignment', { spfResults: [sp('shop.example', 'pass', 'helo')] }, { class: 'failing', dmarcPass: false }],
  ['tegami selector on another account\'s domain is not ours', { headerFrom: 'other.example', dkimResults: [dk('other.example', 'tg2026a')], spfResults: [sp('other.example')] }, { class: 'authorized', dmarcPass: true, tegamiKey: false }],
  ['public suffix: co.uk siblings are not aligned', { headerFrom: 'a.co.uk', dkimResults: [dk('b.co.uk', 's')], spfResults: [sp('b.co.uk')] }, { class: 'failing', dmarcPass: false }],
];

describe('DMARC source classification (issue 9 item 2, R-AUTH-4)', () => {
  it.each(TABLE)('%s', (_name, input, expected) => {
    expect(classifyRecord(ctx, { ...base, ...input })).toMatchObject(expected);
  });

  it('aligns relaxed by organisational domain and strict by equality', () => {
    expect(aligned('mail.shop.example', 'shop.example', 'r')).toBe(true);
    expect(aligned('mail.shop.example', 'shop.example', 's')).toBe(false);
    expect(aligned('SHOP.example.', 'shop.example', 's')).toBe(true);
    expect(aligned('a.example.co.uk', 'b.example.co.uk', 'r')).toBe(true);
    expect(aligned('', 'shop.example', 'r')).toBe(false);
  });
});
