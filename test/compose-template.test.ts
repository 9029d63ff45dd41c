import { describe, expect, it } from 'vitest';
import { foldLines, hasLongerLines } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import { composeMessage } from '../src/render/compose.js';
import { composeTemplate, freshBoundaryHex, hasLongerLines76, plainSubjectHeader, plainToHeader, type PerRecipient, type SharedInput } from '../src/render/compose-template.js';

/** The random part of the MIME boundary is the only allowed difference. */
const norm = (b: Buffer) => b.toString('utf8').replace(/_NmP-[0-9a-f]{16}-Part_/g, '_NmP-X-Part_');

// A seeded generator so a failure reproduces.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}
const PIECES = ['Hello', ' ', '  ', '\t', '\n', '\r\n', '\r', 'äöü', '日本語のお知らせ', '🎉', '=', '.', 'x'.repeat(80), '<p>', '</p>', '&amp;', '=?UTF-8?Q?x?=', '\u0001', 'ｶﾀｶﾅ', ' end ', '-- ', 'From here'];
const text = (r: () => number, n: number) => Array.from({ length: Math.floor(r() * n) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('');

const sharedSub = (smtpUtf8: boolean): SharedInput => ({
  from: { name: 'ニュース News', address: 'news@tmpl.example' }, category: 'subscription', list: { name: 'Weekly 週刊', label: 'l1', namespace: 'tmpl.example' },
  feedbackId: 'c1:a1:subscription:tegami', smtpUtf8, headers: { 'X-Campaign': 'autumn' }, hasHtml: true, hasText: true,
});
const sharedTx = (smtpUtf8: boolean, hasHtml: boolean): SharedInput => ({
  from: { name: null, address: 'billing@tmpl.example' }, category: 'transactional', cc: ['cc@tmpl.example'], replyTo: 'help@tmpl.example',
  feedbackId: 'api:a1:transactional:tegami', smtpUtf8, headers: {}, hasHtml, hasText: true,
});
const copy = (r: () => number, i: number, to?: string[]): PerRecipient => ({
  to: to ?? [i % 7 ? `u${i}@rcpt.example` : `u${i}@bücher.example`],
  subject: text(r, 6).replace(/[\r\n\u0001]/g, '').trim() || `Subject ${i}`,
  html: `<html><body>${text(r, 40)}</body></html>`,
  text: text(r, 40) || 'x',
  messageId: `<m${i}@tmpl.example>`,
  date: new Date(1_700_000_000_000 + i * 1_234_567),
  unsubscribe: { url: `https://tmpl.example/u/tok${i}`, mailto: `mailto:u+tok${i}@b.tmpl.example?subject=unsubscribe` },
});

describe('compose template (issue 3 item 5: composed once per content, substituted per recipient)', () => {
  for (const smtpUtf8 of [false, true]) {
    it(`gives the same bytes as MailComposer for 400 generated subscription copies (smtpUtf8 ${smtpUtf8})`, async () => {
      const shared = sharedSub(smtpUtf8);
      const t = await composeTemplate(shared);
      expect(t).not.toBeNull();
      const r = rng(smtpUtf8 ? 7 : 3);
      const encodings = new Set<string>();
      for (let i = 0; i < 400; i++) {
        const c = copy(r, i);
        const want = await composeMessage({ ...shared, ...c });
        const got = t!.compose(c);
        expect(norm(got)).toBe(norm(want));
        for (const m of want.toString().matchAll(/Content-Transfer-Encoding: (\S+)/g)) encodings.add(m[1]);
      }
      // The generated bodies exercise every transfer encoding MailComposer picks.
      expect([...encodings].sort()).toEqual(smtpUtf8 ? ['7bit', 'base64', 'quoted-printable'] : ['7bit', 'quoted-printable']);
    });

    it(`gives the same bytes for transactional copies with Cc/Reply-To and text-only content (smtpUtf8 ${smtpUtf8})`, async () => {
      for (const hasHtml of [true, false]) {
        const shared = sharedTx(smtpUtf8, hasHtml);
        const t = await composeTemplate(shared);
        const r = rng(11);
        for (let i = 0; i < 100; i++) {
          const c = { ...copy(r, i, ['a@tmpl.example', 'Bob <b@tmpl.example>']), unsubscribe: null, html: hasHtml ? copy(r, i).html : null };
          expect(norm(t!.compose(c))).toBe(norm(await composeMessage({ ...shared, ...c })));
        }
      }
    });
  }

  it('leaves out an empty subject exactly as MailComposer does and uses a fresh boundary per copy', async () => {
    const shared = sharedSub(false);
    const t = (await composeTemplate(shared))!;
    const c = { ...copy(rng(1), 1), subject: '' };
    const a = t.compose(c);
    expect(norm(a)).toBe(norm(await composeMessage({ ...shared, ...c })));
    expect(a.toString()).not.toMatch(/^Subject:/m);
    const b = t.compose(c);
    expect(a.toString().match(/_NmP-([0-9a-f]{16})/)![1]).not.toBe(b.toString().match(/_NmP-([0-9a-f]{16})/)![1]);
  });

  it('refuses what it cannot template (attachments) and keeps tegami\'s checks per copy', async () => {
    expect(await composeTemplate({ ...sharedTx(false, true), attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: Buffer.from('x') }] })).toBeNull();
    const t = (await composeTemplate(sharedSub(false)))!;
    expect(() => t.compose({ ...copy(rng(2), 2), unsubscribe: { url: 'https://tmpl.example/u/a b', mailto: 'mailto:x@tmpl.example' } })).toThrow(/whitespace/);
    expect(() => t.compose({ ...copy(rng(2), 2), unsubscribe: null })).toThrow(/R-UNSUB-1/);
  });

  it('draws each copy\'s boundary from the pooled CSPRNG bytes without reuse, across refills', () => {
    const seen = new Set<string>();
    // 4096-byte pool, 8 bytes a boundary: 3,000 draws cross several refills.
    for (let i = 0; i < 3000; i++) {
      const h = freshBoundaryHex();
      expect(h).toMatch(/^[0-9a-f]{16}$/);
      seen.add(h);
    }
    expect(seen.size).toBe(3000);
  });

  it('writes plain To and Subject fields exactly as nodemailer\'s encodeHeaderValue + foldLines would', () => {
    const node = new MimeNode('text/plain', { textEncoding: 'quoted-printable' } as never) as unknown as { encodeHeaderValue(k: string, v: unknown): string };
    const viaNodemailer = (key: string, v: unknown) => {
      const e = node.encodeHeaderValue(key, v);
      return (e || '').toString().trim() ? `${foldLines(`${key}: ${e}`, 76)}\r\n` : '';
    };
    const r = rng(17);
    const CH = 'abcxyz0189._+-@ ABC=?"<>,;:\\()[]ü\t';
    let plainTo = 0;
    let plainSubject = 0;
    for (let i = 0; i < 20000; i++) {
      const len = 1 + Math.floor(r() * 90);
      const s = Array.from({ length: len }, () => CH[Math.floor(r() * CH.length)]).join('');
      const addr = i % 2 ? `${s.replace(/[^a-z0-9._+-]/g, '').slice(0, 40) || 'x'}@${['rcpt.example', 'a-b.c0.example', 'x.y', 'ex-.example', 'bücher.example', 'EX.example'][i % 6]}`.slice(0, 20 + (i % 70)) : s;
      const to = plainToHeader([addr]);
      if (to !== null) { plainTo++; expect(to, addr).toBe(viaNodemailer('To', [addr])); }
      const subj = plainSubjectHeader(s.trim());
      if (subj !== null) { plainSubject++; expect(subj, s).toBe(viaNodemailer('Subject', s.trim())); }
    }
    for (const a of ['u1@rcpt1.example', 'first.last+tag@sub.domain.example', 'x@y.z']) expect(plainToHeader([a])).toBe(viaNodemailer('To', [a]));
    for (const t of ['News for Name1', 'A  b', 'x', '100% off! #1 (today) [only]']) expect(plainSubjectHeader(t)).toBe(viaNodemailer('Subject', t));
    expect(plainTo).toBeGreaterThan(1000);
    expect(plainSubject).toBeGreaterThan(500);
    // Not for what nodemailer changes: names, IDN, upper case, several addresses, long lines, encoded-word look-alikes, 8-bit.
    for (const a of ['Bob <b@x.example>', 'u@bücher.example', 'U@X.example', `${'a'.repeat(70)}@x.example`]) expect(plainToHeader([a])).toBeNull();
    expect(plainToHeader(['a@x.example', 'b@x.example'])).toBeNull();
    for (const t of ['=?UTF-8?Q?x?=', 'say "hi"', 'ü', 'a'.repeat(67), ' lead', 'trail ', 'tab\there', '']) expect(plainSubjectHeader(t)).toBeNull();
  });

  it('finds lines over 76 characters exactly as nodemailer\'s hasLongerLines does', () => {
    const r = rng(23);
    const P = ['a', 'x'.repeat(30), ' ', '\n', '\r', '\r\n', '\u2028', '\u2029', 'ü', '🎉', '\t'];
    const cases = ['', 'x'.repeat(76), 'x'.repeat(77), `${'x'.repeat(76)}\n${'y'.repeat(76)}`, `a\n${'y'.repeat(77)}`, '🎉'.repeat(38), '🎉'.repeat(39), 'x'.repeat(128 * 1024 + 1)];
    for (let i = 0; i < 3000; i++) cases.push(Array.from({ length: Math.floor(r() * 12) }, () => P[Math.floor(r() * P.length)]).join(''));
    for (const c of cases) expect(hasLongerLines76(c), JSON.stringify(c.slice(0, 200))).toBe(hasLongerLines(c, 76));
  });
});
