import { decodeWords, getHeader } from './mime-headers.js';
import type { MimeNode } from './mime-tree.js';

/**
 * Auto-replies, vacation notices and challenge-response messages (RFC 3834 and common practice).
 * They are never bounces and never suppress anyone; the reason names the signal that decided.
 */

const SUBJECT = new RegExp([
  '^(auto(matic)?[ -]?(reply|response|antwort|respuesta|risposta|r[ée]ponse)|autoreply|auto:)',
  'out of (the )?office', 'away from (the|my) (office|desk)', '\\baway until\\b', '\\bon vacation\\b', '\\bvacation (reply|notice|message)',
  'abwesenheit', "absence du bureau|r[ée]ponse automatique|en cong[ée]s?", 'fuera de la oficina', 'fuori sede',
  '自動(応答|返信|送信|転送)', '不在(通知|のお知らせ|連絡|です)?', '休暇', 'お休み', '外出中', '受信(確認|しました)',
  'please confirm (your|that)', 'verify (your|that you)', 'challenge.?response', '(spam|sender) verification', 'confirm your (message|e-?mail)',
].join('|'), 'i');

const CHALLENGE = /(challenge.?response|please (click|reply|confirm) .{0,40}(verif|confirm|deliver)|verify (that )?you are (a )?human|sender verification|boxbe|spamarrest|mailblocks|sendio)/i;

/** Bounce senders: their Auto-Submitted: auto-replied does not make a DSN an auto-reply. */
export const BOUNCE_SENDER = /(mailer-daemon|post_?master|mail ?delivery|mdaemon|mail administrator|system administrator|mail ?system|bounce|nobody@|no-reply@.*(amazonses|mailgun))/i;

/** The reason this message is an auto-reply, or null when it is not one. */
export function autoReplyReason(root: MimeNode, text: string): string | null {
  const h = root.headers;
  const from = getHeader(h, 'from') ?? '';
  const subject = decodeWords(getHeader(h, 'subject') ?? '');
  if (BOUNCE_SENDER.test(from) && !SUBJECT.test(subject)) return null;
  const autoSubmitted = (getHeader(h, 'auto-submitted') ?? '').toLowerCase();
  if (getHeader(h, 'x-autoreply') !== null || getHeader(h, 'x-autorespond') !== null || getHeader(h, 'x-autoresponder') !== null) return 'x-autoreply header';
  if (/vacation|auto.?reply/i.test(getHeader(h, 'x-apple-action') ?? '')) return 'x-apple-action vacation';
  if (/^auto_?reply$/i.test((getHeader(h, 'precedence') ?? '').trim())) return 'precedence auto_reply';
  if (CHALLENGE.test(subject) || CHALLENGE.test(text.slice(0, 4000))) return 'challenge-response';
  if (SUBJECT.test(subject)) return `subject: ${subject.slice(0, 80)}`;
  if (autoSubmitted.startsWith('auto-replied')) return 'auto-submitted auto-replied';
  if (/^(ooo|oof)$/i.test(getHeader(h, 'x-ms-exchange-inbox-rules-loop') ?? '') || getHeader(h, 'x-ms-exchange-generated-message-source') === 'Mailbox Rules Agent') return 'exchange inbox rule';
  return null;
}
