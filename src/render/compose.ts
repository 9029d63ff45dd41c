import MailComposer from 'nodemailer/lib/mail-composer';
import { encodeWord } from 'nodemailer/lib/mime-funcs';
import { LIST_UNSUBSCRIBE_POST, listIdValue, listUnsubscribeValue } from '../domain/headers.js';

/** Everything a message is built from; validated before it gets here. */
export interface ComposeInput {
  from: { name: string | null; address: string };
  to: string[];
  cc?: string[];
  replyTo?: string | null;
  subject: string;
  html?: string | null;
  text?: string | null;
  attachments?: Array<{ filename: string; contentType: string; content: Buffer }>;
  headers?: Record<string, string>;
  messageId: string;
  date: Date;
  category: 'subscription' | 'transactional';
  list?: { name: string; label: string; namespace: string } | null;
  unsubscribe?: { url: string; mailto: string } | null;
  feedbackId?: string | null;
  smtpUtf8?: boolean;
  /** Fixes the random part of the MIME boundaries (compose-template.ts builds its skeleton with it). */
  baseBoundary?: string;
}

/** RFC 2047 B-encoding for phrases (List-Id display name). */
export function encodePhrase(s: string): string {
  return encodeWord(s, 'B', 52);
}

/**
 * Builds the unsigned MIME bytes with nodemailer's MailComposer. The list headers are set as
 * prepared values because nodemailer's `list` option writes an RFC 2919-invalid List-Id and
 * one List-Unsubscribe field per URI (DESIGN.md); tests check the bytes (R-UNSUB-1/13, R-LIST-2).
 */
export async function composeMessage(input: ComposeInput): Promise<Buffer> {
  const headers: Record<string, string | { prepared: true; value: string }> = { ...(input.headers ?? {}) };
  if (input.category === 'subscription') {
    if (!input.unsubscribe) throw new Error('subscription mail needs one-click unsubscribe (R-UNSUB-1)');
    headers['List-Unsubscribe'] = { prepared: true, value: listUnsubscribeValue(input.unsubscribe.url, input.unsubscribe.mailto) };
    headers['List-Unsubscribe-Post'] = { prepared: true, value: LIST_UNSUBSCRIBE_POST };
    if (input.list) headers['List-Id'] = { prepared: true, value: listIdValue(input.list.name, input.list.label, input.list.namespace, encodePhrase) };
  }
  if (input.feedbackId) headers['Feedback-ID'] = { prepared: true, value: input.feedbackId };
  const composer = new MailComposer({
    from: input.from.name ? { name: input.from.name, address: input.from.address } : input.from.address,
    to: input.to,
    cc: input.cc?.length ? input.cc : undefined,
    replyTo: input.replyTo ?? undefined,
    subject: input.subject,
    html: input.html ?? undefined,
    text: input.text ?? undefined,
    attachments: input.attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    messageId: input.messageId,
    date: input.date,
    headers,
    // Non-ASCII headers stay raw only when the next hop takes SMTPUTF8 (R-EAI-1, R-FMT-6).
    ...(input.smtpUtf8 ? {} : { textEncoding: 'quoted-printable' }),
    ...(input.baseBoundary ? { baseBoundary: input.baseBoundary } : {}),
    disableFileAccess: true,
    disableUrlAccess: true,
  } as never);
  return composer.compile().build();
}
