import { describe, expect, it } from 'vitest';
import { isTegamiError } from '../src/domain/errors.js';
import { nextRetryAt } from '../src/webhooks/backoff.js';
import { contiguous } from '../src/webhooks/fanout.js';
import { signatureHeader } from '../src/webhooks/signing.js';
import { isForbiddenAddress, safeAddresses, validateEndpointUrl } from '../src/webhooks/url-guard.js';
import { verifyStandardWebhook } from './webhooks-receiver.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isTegamiError(e) ? e.code : String(e);
  }
};

describe('webhook endpoint URLs (issue 10, SSRF)', () => {
  it('needs https and refuses private, loopback, link-local and special-use targets when local http is off', () => {
    for (const u of ['http://hooks.example.net/', 'http://127.0.0.1:8080/', 'https://127.0.0.1/', 'https://localhost/', 'https://[::1]/',
      'https://10.0.0.1/', 'https://172.16.5.4/', 'https://192.168.1.1/', 'https://169.254.169.254/', 'https://100.64.0.1/', 'https://0.0.0.0/',
      'https://[fd00::1]/', 'https://[fe80::1]/', 'https://[::ffff:10.0.0.1]/', 'https://api.localhost/', 'https://localhost./', 'https://0x7f.1/', 'https://2130706433/', 'ftp://hooks.example.net/', 'https://u:p@hooks.example.net/']) {
      expect(code(() => validateEndpointUrl(u, false)), u).toBe('E_WEBHOOK_URL');
    }
    for (const u of ['https://hooks.example.net/x?y=1', 'https://8.8.8.8/', 'https://[2606:4700::1111]/']) expect(code(() => validateEndpointUrl(u, false)), u).toBe('ok');
    expect(code(() => validateEndpointUrl('http://127.0.0.1:9/x', true))).toBe('ok');
    expect(code(() => validateEndpointUrl('http://localhost:9/x', true))).toBe('ok');
    expect(code(() => validateEndpointUrl('http://10.0.0.1/x', true))).toBe('E_WEBHOOK_URL');
  });

  it('checks every resolved address, so one private answer among public ones is refused', async () => {
    const lookup = async (h: string) => (h === 'mixed.example' ? [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }] : [{ address: '93.184.216.34', family: 4 }]);
    await expect(safeAddresses(new URL('https://mixed.example/'), lookup, false)).rejects.toMatchObject({ code: 'E_WEBHOOK_TARGET' });
    await expect(safeAddresses(new URL('https://ok.example/'), lookup, false)).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
    await expect(safeAddresses(new URL('https://localhost/'), lookup, false)).rejects.toMatchObject({ code: 'E_WEBHOOK_TARGET' });
    expect(['127.0.0.1', '::1', '::ffff:192.168.0.1', 'fe80::abcd'].every(isForbiddenAddress)).toBe(true);
    expect(['1.1.1.1', '2606:4700::1111'].some(isForbiddenAddress)).toBe(false);
  });
});

describe('webhook signatures, retry schedule and cursor gaps', () => {
  it('matches the Standard Webhooks test vector and signs with every secret given', () => {
    // The example of the Standard Webhooks specification (standard-webhooks/spec.md, "Signature scheme").
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const sig = signatureHeader([secret], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body);
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    const two = signatureHeader([secret, 'whsec_' + Buffer.alloc(32, 7).toString('base64')], 'msg_1', 1614265330, body);
    expect(two.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1614265330', 'webhook-signature': two };
    expect(verifyStandardWebhook(secret, headers, body, 1614265330_000)).toBe(true);
    expect(verifyStandardWebhook(secret, headers, body, 1614265330_000 + 301_000)).toBe(false);
  });

  it('backs off 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and ends exactly 24 h after the window opened', () => {
    const at: number[] = [0];
    for (let n = 1; n < 20; n++) {
      const next = nextRetryAt(0, at[at.length - 1], n, 24);
      if (next === null) break;
      at.push(next);
    }
    expect(at.map((x) => x / 1000)).toEqual([0, 5, 305, 2105, 9305, 27305, 63305, 86400]);
  });

  it('stops the cursor before an id gap until the gap fills or the grace period passes', () => {
    expect(contiguous(10, [11, 12, 13], null, 1000, 60_000)).toEqual({ take: 3, gapSeenAt: null });
    expect(contiguous(10, [11, 13, 14], null, 1000, 60_000)).toEqual({ take: 1, gapSeenAt: 1000 });
    expect(contiguous(11, [13, 14], 1000, 30_000, 60_000)).toEqual({ take: 0, gapSeenAt: 1000 });
    expect(contiguous(11, [13, 14], 1000, 61_000, 60_000)).toEqual({ take: 2, gapSeenAt: null });
    expect(contiguous(11, [13, 14, 20], 1000, 61_000, 60_000)).toEqual({ take: 2, gapSeenAt: 61_000 });
    // the gap filled: the old wait does not carry over to a later gap
    expect(contiguous(11, [12, 13], 1000, 2_000, 60_000)).toEqual({ take: 2, gapSeenAt: null });
    expect(contiguous(11, [12, 14], 1000, 90_000, 60_000)).toEqual({ take: 1, gapSeenAt: 90_000 });
  });
});
