import type { LintFinding, RawHeader } from './headers.js';

const f = (id: string, rule: string, severity: LintFinding['severity'], message: string, evidence?: string): LintFinding => ({ id, rule, severity, message, ...(evidence ? { evidence } : {}) });
const UNSUB_WORDS = /unsubscribe|opt[ -]?out|preferences|配信停止|配信解除|購読解除|登録解除|停止/i;

/** The URIs of a List-Unsubscribe value, or null when it is not a list of <URI> items (RFC 2369 §2, R-UNSUB-13). */
export function listUnsubscribeUris(value: string): string[] | null {
  if (!value.trim().startsWith('<')) return null;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const uris: string[] = [];
  for (const it of items) {
    const m = /^<([^<>\s]+)>$/.exec(it);
    if (!m) return null;
    uris.push(m[1]);
  }
  return uris;
}

/**
 * R-UNSUB-10: the body has a clearly visible unsubscribe link: in HTML an <a> whose href is the
 * unsubscribe URL or whose text or href says unsubscribe/preferences (配信停止 …), not hidden by
 * display:none, visibility:hidden or font-size:0 on the link itself and with visible text; in a
 * text-only message an unsubscribe word with a URL. Used by the lint and usable on rendered content.
 */
export function visibleUnsubscribeLink(parts: { html: string | null; text: string | null }, url: string | null = null): { ok: boolean; message: string } {
  const anchors = [...(parts.html ?? '').matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)].filter((m) => {
    const href = /href\s*=\s*["']?([^"'\s>]+)/i.exec(m[1])?.[1] ?? '';
    return (url && href.replace(/&amp;/g, '&') === url) || UNSUB_WORDS.test(m[2]) || UNSUB_WORDS.test(href);
  });
  const hidden = /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(px|pt|em)?\s*(;|"|'|$)|opacity\s*:\s*0(\.0+)?\s*(;|"|'|$)/i;
  const visible = anchors.filter((m) => !hidden.test(m[1]) && m[2].replace(/<[^>]*>/g, '').trim());
  if (parts.html !== null) {
    if (visible.length) return { ok: true, message: 'visible unsubscribe link in the HTML part' };
    return { ok: false, message: anchors.length ? 'The unsubscribe link in the HTML part is hidden' : 'The HTML part has no visible unsubscribe link' };
  }
  // In plain text the message's own unsubscribe URL is the link; otherwise a word and a URL.
  const inText = !!parts.text && ((!!url && parts.text.includes(url)) || (UNSUB_WORDS.test(parts.text) && /https?:\/\//.test(parts.text)));
  return inText ? { ok: true, message: 'unsubscribe link in the text part' } : { ok: false, message: 'The text part has no unsubscribe link' };
}

/** R-UNSUB-1/2/10/13 and R-LIST-1/2/3 on a subscription message (body parts given for the visible link). */
export function listRules(headers: RawHeader[], parts: { html: string | null; text: string | null }): LintFinding[] {
  const out: LintFinding[] = [];
  const all = (k: string) => headers.filter((h) => h.key === k);
  const lu = all('list-unsubscribe');
  const lup = all('list-unsubscribe-post');
  let https: string | null = null;
  if (lu.length !== 1) out.push(f('unsub.list_unsubscribe_count', lu.length ? 'R-UNSUB-13' : 'R-UNSUB-1', 'error', `${lu.length} List-Unsubscribe fields (exactly one)`));
  else {
    const uris = listUnsubscribeUris(lu[0].value);
    if (!uris) out.push(f('unsub.syntax', 'R-UNSUB-13', 'error', 'List-Unsubscribe is not a comma-separated list of <URI> without inner whitespace', lu[0].raw));
    else {
      const h = uris.filter((u) => /^https:\/\//i.test(u));
      if (h.length !== 1) out.push(f('unsub.https', 'R-UNSUB-1', 'error', `List-Unsubscribe has ${h.length} https URIs (exactly one for one-click)`, lu[0].raw));
      else https = h[0];
      if (!uris.some((u) => /^mailto:/i.test(u))) out.push(f('unsub.mailto', 'R-UNSUB-2', 'warning', 'No mailto: URI (Yahoo and mailto-only clients use it)', lu[0].raw));
      if (h.length === 1 && !/^https:\/\/[^/]+\/.*[A-Za-z0-9_-]{16,}/.test(h[0])) out.push(f('unsub.opaque', 'R-UNSUB-3', 'warning', 'The https URI carries no long opaque token (hard-to-forge component)', h[0]));
    }
  }
  if (lup.length !== 1) out.push(f('unsub.post_count', 'R-UNSUB-1', 'error', `${lup.length} List-Unsubscribe-Post fields (exactly one)`));
  else if (!/^List-Unsubscribe-Post: ?List-Unsubscribe=One-Click$/.test(lup[0].raw)) {
    out.push(f('unsub.post_value', 'R-UNSUB-1', 'error', 'List-Unsubscribe-Post must be exactly "List-Unsubscribe=One-Click" (RFC 8058 §5)', lup[0].raw));
  }
  const link = visibleUnsubscribeLink(parts, https);
  if (!link.ok) out.push(f('unsub.body_link', 'R-UNSUB-10', 'error', link.message));
  const lid = all('list-id');
  if (!lid.length) out.push(f('list.missing', 'R-LIST-1', 'warning', 'No List-Id: each list then needs its own From address'));
  else {
    const v = lid[0].value;
    const m = /^(?:[^<]*)<([^<>\s]+)>$/.exec(v);
    if (!m || !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$/.test(m[1]) || Buffer.byteLength(m[1]) > 255) {
      out.push(f('list.syntax', 'R-LIST-2', 'error', 'List-Id is not [phrase] <list-label.namespace> (dot-atom, ≤255 octets)', lid[0].raw));
    }
  }
  const fb = all('feedback-id');
  if (fb.length === 1) {
    const parts4 = fb[0].value.split(':');
    const sender = parts4[parts4.length - 1];
    if (parts4.length > 4 || sender.length < 5 || sender.length > 15) out.push(f('list.feedback_id', 'R-LIST-3', 'warning', 'Feedback-ID is not a:b:c:SenderId with a 5–15 character SenderId', fb[0].raw));
  }
  if (!out.some((x) => x.severity === 'error')) out.push(f('unsub.ok', 'R-UNSUB-1', 'pass', 'One-click List-Unsubscribe, List-Unsubscribe-Post, visible body link and List-Id are valid'));
  return out;
}
