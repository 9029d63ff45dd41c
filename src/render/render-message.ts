import type { MessageContent } from '../core/message-input.js';
import { composeMessage } from './compose.js';
import { composeTemplate, type ComposeTemplate } from './compose-template.js';
import { signMessage, type SigningKeys } from './dkim.js';
import { compileContent, renderContent, type CompiledContent } from './template.js';
import { PREVIEW_UNSUBSCRIBE_URL } from './preview-url.js';

export { PREVIEW_UNSUBSCRIBE_URL };

/** One recipient's copy: the content plus what is unique to the recipient. */
export interface RenderSpec {
  /** Identifies the content for the parse cache (`content:ID`, `campaign:ID`). */
  cacheKey: string;
  content: MessageContent;
  recipient: { address: string; attributes: Record<string, unknown> };
  messageId: string;
  date: Date;
  list: { name: string; label: string; namespace: string } | null;
  unsubscribe: { url: string; mailto: string; preferencesUrl: string } | null;
  feedbackId: string;
  keys: SigningKeys;
  smtpUtf8?: boolean;
}

const compiled = new Map<string, CompiledContent>();
const MAX_CACHED = 512;

/** Parses a content once per process (campaigns: once per campaign). */
export function compiledFor(key: string, content: MessageContent): CompiledContent {
  let c = compiled.get(key);
  if (!c) {
    c = compileContent(content);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, c);
  }
  return c;
}

/** Merge variables: contact attributes, the recipient, the API `data`, and the links. */
export function mergeVars(spec: Pick<RenderSpec, 'content' | 'recipient' | 'unsubscribe'>): Record<string, unknown> {
  return {
    ...spec.recipient.attributes,
    ...spec.content.data,
    email: spec.recipient.address,
    contact: spec.recipient.attributes,
    unsubscribe_url: spec.unsubscribe?.url ?? '',
    preferences_url: spec.unsubscribe?.preferencesUrl ?? spec.unsubscribe?.url ?? '',
  };
}

/**
 * Renders, composes and signs one recipient's copy (issue 3 items 3, 5, 6). Signing is last,
 * after every header is in place (R-AUTH-8).
 */
export async function renderForRecipient(spec: RenderSpec): Promise<Buffer> {
  const c = spec.content;
  const t = compiledFor(spec.cacheKey, c);
  const parts = renderContent(t, mergeVars(spec));
  // Subscription copies name only their own recipient: one-click identifies one person (R-UNSUB-3).
  const to = c.category === 'subscription' || !c.to.length ? [spec.recipient.address] : c.to;
  const cc = c.category === 'subscription' ? [] : c.cc;
  const perRecipient = {
    to, subject: parts.subject, html: parts.html, text: parts.text, messageId: spec.messageId, date: spec.date, unsubscribe: spec.unsubscribe,
  };
  // The MIME skeleton is built once per content (and list, Feedback-ID, SMTPUTF8) and filled per
  // copy; an empty part changes the structure, so such a copy is composed in full.
  let template: ComposeTemplate | null = null;
  if (!c.attachments.length && parts.html !== '' && parts.text !== '') {
    const entry = templateFor(spec, t.html !== null, cc);
    // A skeleton already built is used without a turn through the microtask queue.
    template = entry.settled ? entry.value : await entry.promise;
  }
  const raw = template
    ? template.compose(perRecipient)
    : await composeMessage({
      ...perRecipient, from: c.from, cc, replyTo: c.replyTo,
      attachments: c.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') })),
      headers: c.headers, category: c.category, list: spec.list, feedbackId: spec.feedbackId, smtpUtf8: spec.smtpUtf8,
    });
  return signMessage(raw, spec.keys, { now: spec.date.getTime() });
}

/** A MIME skeleton being built or built (value null: the content cannot be templated). */
type TemplateEntry = { promise: Promise<ComposeTemplate | null>; settled: boolean; value: ComposeTemplate | null };
const templates = new Map<string, TemplateEntry>();

function templateFor(spec: RenderSpec, hasHtml: boolean, cc: string[]): TemplateEntry {
  const c = spec.content;
  const key = `${spec.cacheKey}\u0000${JSON.stringify([spec.list, spec.feedbackId, !!spec.smtpUtf8, hasHtml])}`;
  let hit = templates.get(key);
  if (!hit) {
    const entry: TemplateEntry = { promise: Promise.resolve(null), settled: false, value: null };
    entry.promise = composeTemplate({
      from: c.from, cc, replyTo: c.replyTo, attachments: [], headers: c.headers, category: c.category, list: spec.list,
      feedbackId: spec.feedbackId, smtpUtf8: spec.smtpUtf8, hasHtml, hasText: true,
    }).catch(() => null).then((v) => {
      entry.value = v;
      entry.settled = true;
      return v;
    });
    if (templates.size >= MAX_CACHED) templates.delete(templates.keys().next().value as string);
    templates.set(key, (hit = entry));
  }
  return hit;
}

/** Renders a content for a sample recipient to reject bad templates at submit time. */

export async function previewContent(content: MessageContent, recipient: { address: string }) {
  const dummy = content.category === 'subscription' ? { url: PREVIEW_UNSUBSCRIBE_URL, mailto: 'mailto:u@example.invalid', preferencesUrl: `${PREVIEW_UNSUBSCRIBE_URL}/preferences` } : null;
  return renderContent(compileContent(content), mergeVars({ content, recipient: { address: recipient.address, attributes: {} }, unsubscribe: dummy }));
}
