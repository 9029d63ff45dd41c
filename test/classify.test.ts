import { describe, expect, it } from 'vitest';
import { classifyReply, enhancedFrom, parseRules } from '../src/bounce/classify.js';

/** Real reply lines (fixtures' Diagnostic-Code lines, provider docs in COMPLIANCE.md B.5) → expected class. */
const TABLE: Array<[number | null, string, string, boolean]> = [
  // code, reply text, class, suppress
  [550, '550 5.1.1 <kijitora@example.jp>... User Unknown', 'hard_bounce', true],
  [550, '550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient\'s email address', 'hard_bounce', true],
  [550, '550 5.1.1 <pseudo-local-part-of-icloud@icloud.com>: inactive email', 'hard_bounce', true],
  [550, '550 5.1.1 Mailbox does not exist', 'hard_bounce', true],
  [550, '550 <otsu@au.com>: User unknown', 'hard_bounce', true],
  [550, '550 unknown user', 'hard_bounce', true],
  [551, '551 not our user', 'hard_bounce', true],
  [553, '553 5.1.2 We weren\'t able to find the recipient domain.', 'hard_bounce', true],
  [553, '553 5.1.3 The recipient address is not a valid RFC 5321 address', 'hard_bounce', true],
  [556, '556 5.1.10 Recipient address has null MX', 'hard_bounce', true],
  [554, '554 delivery error: dd This user doesn\'t have a yahoo.com account (x@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com', 'hard_bounce', true],
  [550, '550 Unknown user kijitora@example.co.jp', 'hard_bounce', true],
  [550, '550 5.2.1 The email account that you tried to reach is inactive.', 'hard_bounce', true],
  [550, '550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.', 'rate_limited', false],
  [452, '452 4.2.2 The recipient\'s inbox is out of storage space.', 'mailbox_full', false],
  [552, '552 5.2.2 The recipient\'s inbox is out of storage space and inactive.', 'hard_bounce', true],
  [552, '552 5.2.2 Mailbox full', 'mailbox_full', false],
  [550, '550 Mailbox is frozen. See http://mail.i.ua/err/3/', 'hard_bounce', true],
  [421, '421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your DKIM domain.', 'rate_limited', false],
  [550, '550 5.7.28 There is an unusual amount of unsolicited mail originating from your IP.', 'rate_limited', false],
  [452, '452 4.3.2 Connection rate limit exceeded.', 'rate_limited', false],
  [421, '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints', 'rate_limited', false],
  [550, '550 5.7.26 This mail has been blocked because the sender is unauthenticated.', 'sender_config', false],
  [421, '421 4.7.26 This mail has been rate limited because it is unauthenticated.', 'sender_config', false],
  [550, '550 5.7.27 The sender does not pass SPF.', 'sender_config', false],
  [421, '421 4.7.29 This message was not sent over TLS.', 'sender_config', false],
  [550, '550 5.7.30 This message does not pass DKIM.', 'sender_config', false],
  [421, '421 4.7.32 The From: header isn\'t aligned with either the authenticated SPF or DKIM organizational domain.', 'sender_config', false],
  [421, '421 5.7.32 From header not aligned', 'sender_config', false],
  [550, '550 5.7.40 The DMARC record does not specify a DMARC policy.', 'sender_config', false],
  [550, '550 5.7.25 The IP address sending this message does not have a PTR record setup.', 'sender_config', false],
  [550, '550 5.7.515 Access denied, sending domain example.com does not meet the required authentication level.', 'sender_config', false],
  [550, '550 DMARC check failed.', 'sender_config', false],
  [550, '550 Bad SPF records for', 'sender_config', false],
  [550, '550 5.7.1 Connections not accepted from servers without a valid sender domain. Fix reverse DNS for 203.0.113.2', 'sender_config', false],
  [450, '450 4.7.1 Access denied. IP name lookup failed [192.0.2.222]', 'sender_config', false],
  [553, '553 http://www.spamhaus.org/query/bl?ip=192.0.2.222', 'policy', false],
  [554, '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 'policy', false],
  [550, '550 5.7.1 Message content rejected, UBE, id=00000-00-000', 'content', false],
  [550, '550 5.7.1 message content rejected', 'content', false],
  [550, '550 Virus Detected; Content Rejected', 'content', false],
  [550, '550 5.7.1 <k@example.com>: Recipient address rejected: User k@example.com temporary locked. Please try again later!', 'soft_bounce', false],
  [553, '553 5.6.7 next hop does not offer SMTPUTF8', 'content', false],
  [550, '550 5.6.9 improper use of 8-bit data in message header', 'content', false],
  [552, '552 5.3.4 Your message exceeded Google\'s message size limits.', 'content', false],
  [554, '554 5.4.6 Too many hops', 'network', false],
  [451, '451 4.3.0 Mail server temporarily rejected message.', 'soft_bounce', false],
  [550, '550 5.7.9 some policy we do not know', 'policy', false],
  [554, '554 Transaction failed', 'unknown', false],
  [550, '550 5.2.1 <kijitora@libsisimai.org>... User Unknown', 'hard_bounce', true],
  [550, '550 5.2.2 <mikeneko@example.co.jp>... Mailbox Full', 'mailbox_full', false],
  [553, '553 Invalid recipient kijitora@example.org (Mode: normal)', 'hard_bounce', true],
  [550, '550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient', 'content', false],
  [501, '501 5.1.8 Sender address rejected', 'sender_config', false],
  [550, '550 5.1.0 <0100@amazonses.com> sender rejected. Please see https://www.spectrum.net/support/internet/understanding-email-error-codes for more information. AUP#In-1310', 'sender_config', false],
  [554, '554 5.7.0 Reject, id=20025-09 - SPAM', 'content', false],
  [550, '550 mwinf5c04 ME Adresse IP source bloquee pour incident', 'policy', false],
  [421, '421 4.7.0 Try again later, closing connection.', 'rate_limited', false],
  [421, '421 4.7.0 [GL01] Message from (192.0.2.1) temporarily deferred', 'rate_limited', false],
  [421, '421 4.7.0 Unable to deliver, closing connection', 'rate_limited', false],
  [554, '554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>', 'network', false],
  [550, '550 5.4.312 Message expired, DNS query failed', 'network', false],
  [554, '554 5.7.1 <kijitora@example.com>: Relay access denied', 'policy', false],
  [550, '550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.135#rcp Refused due to recipient preferences', 'hard_bounce', true],
  [550, '550 5.7.1 [192.0.2.22 18] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.', 'content', false],
  [503, '503 Improper sequence of commands', 'unknown', false],
];

describe('SMTP reply classification from rules/smtp-replies.txt (R-BNC-1..4)', () => {
  it.each(TABLE)('%s %s → %s', (code, text, cls, suppress) => {
    const c = classifyReply(code, null, text);
    expect(c.class).toBe(cls);
    expect(c.suppress).toBe(suppress);
    expect(c.permanent).toBe((code ?? 0) >= 500);
    if (cls === 'sender_config') expect(c.holdStream).toBe(true);
  });

  it('never suppresses on a 4xx, even with an address-class enhanced code', () => {
    expect(classifyReply(450, null, '450 4.1.1 mailbox temporarily unavailable').suppress).toBe(false);
  });

  it('reads enhanced codes from text and reports bad rule lines with their line number', () => {
    expect(enhancedFrom('smtp; 550 #5.1.0 Address rejected.')).toBe('5.1.0');
    expect(enhancedFrom('no code here')).toBeNull();
    expect(() => parseRules('ok | 5.1.1 | * | hard_bounce | yes | no\nbad line', 'x.txt')).toThrow('x.txt:2');
    expect(() => parseRules('a | 5.1.1 | * | nonsense | yes | no')).toThrow(/unknown class/);
  });
});
