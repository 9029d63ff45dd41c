import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyReply, parseRules } from '../src/bounce/classify.js';
import { bounceAction, classifyBounce, normaliseStatus } from '../src/bounce/classify-bounce.js';
import { addressFromField, parseDsnFields } from '../src/bounce/dsn-fields.js';
import { decodeWords, parseContentType } from '../src/bounce/mime-headers.js';
import { parseMime, splitMultipart } from '../src/bounce/mime-tree.js';
import { cleanMessageId } from '../src/bounce/original.js';
import { parseInboundReport } from '../src/bounce/parse-report.js';
import { providerOf } from '../src/bounce/provider.js';
import { decideReason } from '../src/bounce/reasons.js';
import { findAddresses } from '../src/bounce/text-bounce.js';

describe('DSN fields (RFC 3464 §2.2–2.3)', () => {
  it('groups per recipient, unfolds lines, and starts a new recipient when a group has no blank line before it', () => {
    const f = parseDsnFields([
      'Reporting-MTA: dns; mx.example.net', 'Arrival-Date: Mon, 23 Nov 2026 09:00:00 +0000', '',
      'Final-Recipient: rfc822; a@example.org', 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1',
      '  no such user', 'Final-Recipient: rfc822; b@example.org', 'Action: delayed', 'Status: 4.2.2', '',
      'Final-Recipient: rfc822; c@example.org', 'Action: failed', 'Status: 5.2.2',
    ].join('\r\n'));
    expect(f.message['reporting-mta']).toBe('dns; mx.example.net');
    expect(f.recipients.map((g) => [g['final-recipient'], g.action, g.status])).toEqual([
      ['rfc822; a@example.org', 'failed', '5.1.1'], ['rfc822; b@example.org', 'delayed', '4.2.2'], ['rfc822; c@example.org', 'failed', '5.2.2'],
    ]);
    expect(f.recipients[0]['diagnostic-code']).toBe('smtp; 550 5.1.1 no such user');
  });

  it('reads rfc822, utf-8 (RFC 6533 xtext escapes) and bare recipient fields, lowercasing only the domain', () => {
    expect(addressFromField('rfc822; Kiji.Tora@Example.ORG')).toBe('Kiji.Tora@example.org');
    expect(addressFromField('rfc822;<a@b.example>')).toBe('a@b.example');
    expect(addressFromField('utf-8; \\x{82B1}\\x{5B50}@\\x{4F8B}\\x{3048}.jp')).toBe('花子@例え.jp');
    expect(addressFromField('utf-8; 花子@例え.jp')).toBe('花子@例え.jp');
    expect(addressFromField('rfc822; @mx.example.org')).toBeNull();
    expect(addressFromField('x400; /G=a/S=b/')).toBeNull();
  });

  it('normalises Status values with comments and leading zeros', () => {
    expect(normaliseStatus('5.1.1 (user unknown)')).toBe('5.1.1');
    expect(normaliseStatus('5.01.001')).toBe('5.1.1');
    expect(normaliseStatus('failed')).toBeNull();
  });
});

describe('MIME walking', () => {
  it('splits at delimiter lines only, keeps a truncated last part, and guesses a lost boundary', () => {
    expect(splitMultipart('pre\n--b\nA\n--bx not a delimiter\n--b\nB\n--b--\nepilogue', 'b')).toEqual(['A\n--bx not a delimiter', 'B']);
    expect(splitMultipart('--b\nA\n--b\nB (truncated)', 'b')).toEqual(['A', 'B (truncated)']);
    const t = parseMime(Buffer.from('Content-Type: multipart/report\n\n--xyz\nContent-Type: text/plain\n\nhi\n--xyz--\n'));
    expect(t.children.map((c) => c.ct.type)).toEqual(['text/plain']);
  });

  it('reads RFC 2231 parameters and RFC 2047 words (ISO-2022-JP, Shift_JIS, UTF-8)', () => {
    expect(parseContentType('multipart/report; report-type=delivery-status;\n boundary*0="ab"; boundary*1="cd"').params.boundary).toBe('abcd');
    expect(parseContentType("text/plain; title*=utf-8''%E8%87%AA%E5%8B%95").params.title).toBe('自動');
    expect(decodeWords('=?ISO-2022-JP?B?GyRCJWEhPCVrJSglaSE8RExDThsoQg==?=')).toBe('メールエラー通知');
    expect(decodeWords('=?UTF-8?Q?Auto_reply:_?= =?UTF-8?B?5LiN5Zyo?=')).toBe('Auto reply: 不在');
    expect(decodeWords('=?x-sjis?B?gqCCog==?=')).toBe('あい');
  });

  it('drops white space inside Message-ID brackets and keeps ids without brackets', () => {
    expect(cleanMessageId('<38.E7.30937.BD6E1BB5@ mailrelay.de>')).toBe('38.E7.30937.BD6E1BB5@mailrelay.de');
    expect(cleanMessageId('8787KJKJ3K4J.mail@example.net')).toBe('8787KJKJ3K4J.mail@example.net');
    expect(cleanMessageId(null)).toBeNull();
  });

  it('finds addresses in linear time', () => {
    expect(findAddresses('x <a.b@c.example>, "d"@e, f@g.example.').map((a) => a.token)).toEqual(['a.b@c.example', 'f@g.example.']);
    const t0 = performance.now();
    findAddresses(('a'.repeat(63) + '@').repeat(50_000));
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('one classifier for replies and DSNs (R-BNC-1..4)', () => {
  it('applies provider rules only for that provider (B.5: classify provider, code and text)', () => {
    const text = '550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.';
    expect(classifyReply(550, '5.2.1', text, undefined, 'google').class).toBe('rate_limited');
    expect(classifyReply(550, '5.7.509', '550 5.7.509 Access denied', undefined, 'microsoft')).toMatchObject({ class: 'sender_config', holdStream: true, suppress: false });
    expect(classifyReply(550, '5.7.509', '550 5.7.509 Access denied').class).toBe('policy');
    expect(providerOf('gmail-smtp-in.l.google.com')).toBe('google');
    expect(providerOf('x@hotmail.co.uk')).toBe('microsoft');
    expect(providerOf('mta7.am0.yahoodns.net')).toBe('yahoo');
    expect(providerOf('mx.example.org')).toBeNull();
    // Spectrum's AUP#1310 is a connection limit; without the provider the line reads as a sender rejection.
    const spectrum = '550 5.1.0 <x@amazonses.com> sender rejected. Please see https://www.spectrum.net/support/internet/understanding-email-error-codes for more information. AUP#In-1310';
    expect(classifyReply(550, '5.1.0', spectrum, undefined, providerOf('user@charter.net')).class).toBe('rate_limited');
    expect(classifyReply(550, '5.1.0', spectrum).class).toBe('sender_config');
    expect(classifyReply(554, null, '554 Host network not allowed', undefined, providerOf('us-smtp-inbound-1.mimecast.com'))).toMatchObject({ class: 'policy', holdStream: true });
    expect(() => parseRules('a | 5.1.1 | * | hard_bounce | yes | no | Bad Provider')).toThrow(/bad provider/);
  });

  it('holds the stream on sender-side codes and never suppresses for them, whatever the text', () => {
    for (const [status, text] of [
      ['4.7.28', '421 4.7.28 Gmail has detected an unusual rate of unsolicited mail'],
      ['5.7.26', '550 5.7.26 Unauthenticated email from news.example.com is not accepted; user unknown'],
      ['4.7.32', '421 4.7.32 From: header isn\'t aligned (RFC 5322)'],
      ['5.7.515', '550 5.7.515 Access denied, sending domain does not meet the required authentication level'],
      ['5.7.1', '554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org'],
    ]) {
      const c = classifyBounce({ status, replyCode: null, text, action: 'failed', remoteMta: null }).classification;
      expect(c.holdStream, status).toBe(true);
      expect(c.suppress, status).toBe(false);
    }
    expect(classifyBounce({ status: '4.7.28', replyCode: 421, text: '421 4.7.28 unusual rate', action: 'failed', remoteMta: null }).classification.class).toBe('rate_limited');
  });

  it('suppresses address codes on final failures only, and counts transient ones', () => {
    const hard = classifyBounce({ status: '5.1.1', replyCode: 550, text: '550 5.1.1 user unknown', action: 'failed', remoteMta: null });
    expect(bounceAction({ action: 'failed', classification: hard.classification })).toBe('suppress');
    const delayed = classifyBounce({ status: '5.1.1', replyCode: null, text: '550 5.1.1 user unknown', action: 'delayed', remoteMta: null });
    expect(delayed.classification.suppress).toBe(false);
    expect(bounceAction({ action: 'delayed', classification: delayed.classification })).toBe('none');
    const full = classifyBounce({ status: '4.2.2', replyCode: 452, text: '452 4.2.2 mailbox full', action: 'failed', remoteMta: null });
    expect(bounceAction({ action: 'failed', classification: full.classification })).toBe('count');
    const ok = classifyBounce({ status: '2.0.0', replyCode: 250, text: '250 OK', action: 'delivered', remoteMta: null });
    expect(bounceAction({ action: 'delivered', classification: ok.classification })).toBe('reset');
  });

  it('decides Sisimai reasons from words first, then codes; failed + no answer is expired', () => {
    expect(decideReason({ status: '5.1.1', text: '552 sorry, mailbox is over quota' }).reason).toBe('mailboxfull');
    expect(decideReason({ status: '5.7.9', text: '554 5.7.9 Header error', extra: 'Service unavailable' }).reason).toBe('policyviolation');
    expect(decideReason({ status: '4.4.1', text: 'connect to mx: Connection timed out', action: 'failed' }).reason).toBe('expired');
    expect(decideReason({ status: '4.4.1', text: 'connect to mx: Connection timed out', action: 'delayed' }).reason).toBe('networkerror');
    expect(decideReason({ status: null, text: 'no idea' }).reason).toBe('undefined');
  });
});

describe('report kinds', () => {
  it('treats a mailer-daemon DSN with Auto-Submitted: auto-replied as a bounce, and a person\'s one as an auto-reply', () => {
    const dsn = 'From: MAILER-DAEMON@mx.example.net\nAuto-Submitted: auto-replied\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\n<a@example.org>: 550 5.1.1 user unknown\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n--b--\n';
    expect(parseInboundReport(Buffer.from(dsn)).kind).toBe('dsn');
    const auto = 'From: Bob <bob@example.org>\nAuto-Submitted: auto-replied\nSubject: Re: hello\n\nI am away.\n';
    expect(parseInboundReport(Buffer.from(auto))).toMatchObject({ kind: 'autoreply', from: 'bob@example.org' });
  });

  it('reads an ARF report forwarded as an attachment, with the original of the inner report', () => {
    const inner = readFileSync(resolve(import.meta.dirname, 'fixtures/bounces/arf-yahoo-cfl.eml'), 'latin1');
    const fwd = `From: Abuse Desk <abuse@isp.example>\nTo: abuse@news.example.com\nSubject: Fwd: complaint\nContent-Type: multipart/mixed; boundary=f\n\n--f\nContent-Type: text/plain\n\nPlease handle.\n--f\nContent-Type: message/rfc822\n\n${inner}\n--f--\n`;
    expect(parseInboundReport(Buffer.from(fwd, 'latin1'))).toMatchObject({
      kind: 'arf', feedbackType: 'abuse', recipients: ['vera@yahoo.com'],
      original: { messageId: 'arf-yahoo-cfl.o@news.example.com', returnPath: 'b+2s.k3j5x9q2m4p7@bounce.news.example.com' },
    });
  });

  it('is not misled by quoted original headers without a marker line (Content-Type, charset, rfc822)', () => {
    const text = [
      'From: MAILER-DAEMON@mx.example.net', 'Subject: failure notice', 'To: b+1.abcd@bounce.example.com', '',
      '<gone@example.org>:', '192.0.2.1 does not like recipient.', 'Remote host said: 550 5.1.1 <gone@example.org>: user unknown',
      'Content-Type: text/plain; charset=iso-2022-jp', 'X-Original: rfc822; spam-filtered virus-checked', '',
    ].join('\n');
    const r = parseInboundReport(Buffer.from(text));
    expect(r.kind).toBe('dsn');
    if (r.kind === 'dsn') expect(r.recipients.map((x) => [x.address, x.status, x.classification.class, x.classification.suppress])).toEqual([['gone@example.org', '5.1.1', 'hard_bounce', true]]);
  });

  it('answers unknown, never throws, for empty and binary input', () => {
    expect(parseInboundReport(Buffer.alloc(0)).kind).toBe('unknown');
    expect(parseInboundReport(Buffer.from([0, 255, 13, 10, 13, 10, 0])).kind).toBe('unknown');
  });
});
