import { Liquid, type Template } from 'liquidjs';
import { fail } from '../domain/errors.js';
import { htmlToText } from './text-from-html.js';

/**
 * A fixed locale for liquid's date filter: the same output on every server, whatever its LANG.
 * Without one, liquidjs asks `Intl.DateTimeFormat().resolvedOptions()` at construction, which maps
 * ~4.3 MB of ICU's locale data into the process (bench/send peak RSS; test/template-locale.test.ts).
 */
export const TEMPLATE_LOCALE = 'en-US';
const htmlEngine = new Liquid({ outputEscape: 'escape', strictFilters: true, ownPropertyOnly: true, locale: TEMPLATE_LOCALE });
const textEngine = new Liquid({ strictFilters: true, ownPropertyOnly: true, locale: TEMPLATE_LOCALE });

/** Parsed templates of one content (subject, html, text), parsed once and rendered per recipient. */
export interface CompiledContent {
  subject: Template[];
  html: Template[] | null;
  text: Template[] | null;
  /** The text part is generated from the HTML part. */
  textFromHtml: boolean;
}

const LINK = /\{\{-?\s*(unsubscribe_url|preferences_url)\b/;

const FOOTER = {
  html: '<hr><p style="font-size:12px;color:#555555">You receive this because you subscribed. '
    + '<a href="{{ unsubscribe_url }}" style="color:#1a0dab">Unsubscribe</a> · '
    + '<a href="{{ preferences_url }}" style="color:#1a0dab">Preferences</a></p>',
  text: '\n\n--\nUnsubscribe: {{ unsubscribe_url }}\nPreferences: {{ preferences_url }}\n',
};

/**
 * R-UNSUB-10: subscription content whose HTML or text does not reference the unsubscribe link
 * gets a visible footer in that part.
 */
export function ensureUnsubscribeFooter(parts: { html: string | null; text: string | null }): { html: string | null; text: string | null } {
  let { html, text } = parts;
  if (html !== null && !LINK.test(html)) html = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${FOOTER.html}</body>`) : html + FOOTER.html;
  if (text !== null && !LINK.test(text)) text = text + FOOTER.text;
  return { html, text };
}

function parse(engine: Liquid, field: string, src: string): Template[] {
  try {
    return engine.parse(src);
  } catch (e) {
    fail('E_TEMPLATE', `${field}: ${(e as Error).message.split('\n')[0]}`, { field });
  }
}

/** Parses subject/html/text once; subscription content gets the unsubscribe footer first. */
export function compileContent(c: { subject: string; html: string | null; text: string | null; category: string }): CompiledContent {
  const parts = c.category === 'subscription' ? ensureUnsubscribeFooter({ html: c.html, text: c.text }) : { html: c.html, text: c.text };
  return {
    subject: parse(textEngine, 'subject', c.subject),
    html: parts.html !== null ? parse(htmlEngine, 'html', parts.html) : null,
    text: parts.text !== null ? parse(textEngine, 'text', parts.text) : null,
    textFromHtml: parts.text === null,
  };
}

/**
 * Renders the parsed content for one recipient; the HTML part escapes merge data by default.
 * Synchronous: liquidjs's renderSync runs the parsed templates through the same tags and filters
 * as its render (tegami's scopes are plain data and no tag loads a file), without the promise
 * machinery on the render thread's hot path.
 */
export function renderContent(t: CompiledContent, vars: Record<string, unknown>): { subject: string; html: string | null; text: string } {
  try {
    const subject = textEngine.renderSync(t.subject, vars) as string;
    // Merge data must not turn the subject into two header lines (no header injection).
    if (/[\r\n\0]/.test(subject)) fail('E_HEADER_INJECTION', 'subject: merge data put CR or LF into the subject');
    const html = t.html ? (htmlEngine.renderSync(t.html, vars) as string) : null;
    const text = t.text ? (textEngine.renderSync(t.text, vars) as string) : htmlToText(html ?? '');
    return { subject: subject.trim(), html, text };
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith?.('E_')) throw e;
    fail('E_TEMPLATE', (e as Error).message.split('\n')[0]);
  }
}
