import { addressOf, countMailboxes, SINGLE, type LintFinding, type RawHeader } from './headers.js';

/** The text of RFC 2047 encoded-words (B and Q), for checks on what a reader sees. */
function decodeWords(v: string): string {
  return v.replace(/=\?([^?\s]+)\?([bq])\?([^?\s]*)\?=/gi, (_m, cs: string, enc: string, data: string) => {
    try {
      const buf = enc.toLowerCase() === 'b' ? Buffer.from(data, 'base64') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return new TextDecoder(/^utf-?8$/i.test(cs) ? 'utf-8' : cs).decode(buf);
    } catch {
      return '';
    }
  });
}

const f = (id: string, rule: string, severity: LintFinding['severity'], message: string, evidence?: string): LintFinding => ({ id, rule, severity, message, ...(evidence ? { evidence } : {}) });

/** RFC 5322 and provider format rules on the final bytes (R-FMT-1..6, R-FMT-8). */
export function formatRules(headers: RawHeader[], raw: Buffer): LintFinding[] {
  const out: LintFinding[] = [];
  const all = (k: string) => headers.filter((h) => h.key === k);
  for (const k of ['date', 'from']) {
    const n = all(k).length;
    if (n !== 1) out.push(f(`fmt.${k}_count`, 'R-FMT-1', 'error', `${n} ${k === 'date' ? 'Date' : 'From'} fields (exactly one required)`, all(k).map((h) => h.raw).join('\n')));
  }
  const from = all('from')[0];
  if (from) {
    const n = countMailboxes(from.value);
    if (n !== 1) out.push(f('fmt.from_mailboxes', 'R-FMT-2', 'error', `From has ${n} mailboxes (exactly one)`, from.raw));
    const display = from.value.replace(/<[^<>]*>\s*$/, '');
    if (/@/.test(display) && addressOf(from.value)) out.push(f('fmt.display_name_address', 'R-FMT-8', 'warning', 'The From display name contains an address (R-AUTH-12: never a @gmail.com-style display name)', from.raw));
  }
  const mid = all('message-id');
  if (mid.length === 0) out.push(f('fmt.message_id_missing', 'R-FMT-3', 'error', 'No Message-ID (Gmail rejects it: 550 5.7.1)'));
  else if (!/^<[^<>@\s]+@[^<>@\s]+>$/.test(mid[0].value)) out.push(f('fmt.message_id_syntax', 'R-FMT-3', 'error', 'Message-ID is not <id-left@id-right>', mid[0].raw));
  for (const k of SINGLE) {
    const n = all(k).length;
    if (n > 1 && k !== 'from' && k !== 'date') out.push(f('fmt.duplicate_header', 'R-FMT-4', 'error', `${n} ${all(k)[0].name} fields (at most one)`, all(k).map((h) => h.raw).join('\n')));
  }
  const lines = raw.toString('latin1').split(/\r?\n/);
  let longest = 0; let at = 0;
  lines.forEach((l, i) => { const len = Buffer.byteLength(l, 'latin1'); if (len > longest) { longest = len; at = i + 1; } });
  if (longest > 998) out.push(f('fmt.line_length', 'R-FMT-5', 'error', `Line ${at} is ${longest} octets long (at most 998 without CRLF)`, lines[at - 1].slice(0, 80) + '…'));
  else if (longest > 78) out.push(f('fmt.line_length_soft', 'R-FMT-5', 'info', `Longest line ${longest} octets (SHOULD be ≤78, MUST be ≤998)`));
  const eightBit = headers.find((h) => /[^\x00-\x7f]/.test(h.raw));
  if (eightBit) out.push(f('fmt.raw_8bit_header', 'R-FMT-6', 'warning', `${eightBit.name} has raw 8-bit bytes: only allowed when every hop offers SMTPUTF8 (R-EAI-1)`, eightBit.raw.slice(0, 200)));
  // Gmail 550 5.7.1: encoded-words are only allowed in unstructured text and display names (RFC 2047 §5).
  const STRUCTURED = ['message-id', 'date', 'in-reply-to', 'references', 'list-unsubscribe', 'list-unsubscribe-post', 'content-type', 'mime-version', 'content-transfer-encoding'];
  const misplaced = headers.find((h) => (STRUCTURED.includes(h.key) && /=\?[^?\s]+\?[bq]\?/i.test(h.value))
    || (['from', 'to', 'cc', 'reply-to', 'sender'].includes(h.key) && /<[^>]*=\?[^?\s]+\?[bq]\?[^>]*>/i.test(h.value)));
  if (misplaced) out.push(f('fmt.encoded_word', 'R-FMT-6', 'error', `${misplaced.name} has an encoded-word where RFC 2047 does not allow one`, misplaced.raw.slice(0, 200)));
  if (from && /[\u{1F300}-\u{1FAFF}\u{2600}-\u{27BF}]/u.test(decodeWords(from.value.replace(/<[^<>]*>\s*$/, '')))) {
    out.push(f('fmt.display_name_emoji', 'R-FMT-8', 'warning', 'The From display name contains an emoji or symbol (Google display-name guidelines)', from.raw));
  }
  const headerBytes = headers.reduce((a, h) => a + h.raw.length + 2, 0);
  if (headerBytes > 16_384) out.push(f('fmt.header_size', 'R-FMT-6', 'warning', `Header block is ${headerBytes} octets (keep under 16 KB)`));
  const subject = all('subject')[0];
  if (subject && /^\s*(re|fwd?)\s*:/i.test(subject.value) && !all('in-reply-to').length && !all('references').length) {
    out.push(f('fmt.fake_reply', 'R-FMT-8', 'error', 'Subject starts with Re:/Fwd: but the message is not a reply (no In-Reply-To or References)', subject.raw));
  }
  if (!out.some((x) => x.severity === 'error')) out.push(f('fmt.ok', 'R-FMT-1', 'pass', 'Date, From, Message-ID, single-instance headers and line lengths are valid'));
  return out;
}
