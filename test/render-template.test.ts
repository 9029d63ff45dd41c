import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { compileContent, renderContent } from '../src/render/template.js';
import { htmlToText } from '../src/render/text-from-html.js';

// The engines as src/render/template.ts configures them, rendered the asynchronous way (the reference).
const htmlEngine = new Liquid({ outputEscape: 'escape', strictFilters: true, ownPropertyOnly: true });
const textEngine = new Liquid({ strictFilters: true, ownPropertyOnly: true });

async function reference(c: { subject: string; html: string | null; text: string | null; category: string }, vars: Record<string, unknown>) {
  const t = compileContent(c);
  const subject = (await textEngine.render(t.subject, vars)) as string;
  const html = t.html ? ((await htmlEngine.render(t.html, vars)) as string) : null;
  const text = t.text ? ((await textEngine.render(t.text, vars)) as string) : htmlToText(html ?? '');
  return { subject: subject.trim(), html, text };
}

const VARS = {
  first: 'Ann <b>&"\'', last: null, n: 3, price: 12.5, tags: ['a', '<x>', 'c'], nested: { deep: { v: 'ü日本' } }, when: '2024-01-02T03:04:05Z',
  email: 'a@x.example', unsubscribe_url: 'https://x.example/u/t?a=1&b=2', preferences_url: 'https://x.example/p',
};
const TEMPLATES = [
  'Hello {{ first }}', '{{ first | upcase }} {{ last | default: "friend" }}', '{% if n > 2 %}many{% else %}few{% endif %}',
  '{% for t in tags %}[{{ t }}]{% endfor %}', '{{ nested.deep.v | append: "!" }}', '{{ price | times: 2 | round: 1 }}', '{{ when | date: "%Y-%m-%d" }}',
  '{% assign x = first | downcase %}{{ x | escape }}', '{{ tags | join: ", " }}', '{{ first | raw }}', '{{ "a,b" | split: "," | size }}',
  '{% capture c %}{{ n | plus: 1 }}{% endcapture %}<p>{{ c }}</p>', '{% unless last %}no last{% endunless %}', '{{ email }} {{ unsubscribe_url }}',
  '{%- for i in (1..n) -%} {{ i }} {%- endfor -%}', '{% case n %}{% when 3 %}three{% endcase %}', '{{ missing.key }}|{{ first.size }}',
];

describe('liquid rendering without promises (renderContent)', () => {
  it('renders the same subject, HTML (escaped) and text as the asynchronous render, for both categories', async () => {
    for (const src of TEMPLATES) {
      for (const category of ['subscription', 'transactional']) {
        const c = { subject: `S ${src.replace(/<[^>]*>/g, '')}`, html: `<html><body>${src}</body></html>`, text: src, category };
        const t = compileContent(c);
        expect(renderContent(t, VARS), src).toEqual(await reference(c, VARS));
        const noText = { ...c, text: null };
        expect(renderContent(compileContent(noText), VARS), src).toEqual(await reference(noText, VARS));
      }
    }
    // The HTML part escapes merge data, the text part does not.
    const r = renderContent(compileContent({ subject: 's', html: '<p>{{ first }}</p>', text: '{{ first }}', category: 'transactional' }), VARS);
    expect(r.html).toBe('<p>Ann &lt;b&gt;&amp;&#34;&#39;</p>');
    expect(r.text).toBe('Ann <b>&"\'');
  });

  it('keeps the error codes: E_HEADER_INJECTION for CR/LF in the subject, E_TEMPLATE for a failing render', async () => {
    const inj = compileContent({ subject: 'Hi {{ first }}', html: null, text: 'x', category: 'transactional' });
    for (const first of ['a\r\nBcc: x@evil.example', 'a\nb', 'a\0b']) {
      expect(() => renderContent(inj, { first })).toThrow(expect.objectContaining({ code: 'E_HEADER_INJECTION' }));
    }
    // A render-time failure (an include with no template root) is E_TEMPLATE with liquid's first message line.
    const bad = compileContent({ subject: 's', html: null, text: '{% include "nope" %}', category: 'transactional' });
    let syncErr: { code?: string; message?: string } = {};
    try { renderContent(bad, {}); } catch (e) { syncErr = e as never; }
    expect(syncErr.code).toBe('E_TEMPLATE');
    let asyncMsg = '';
    try { await textEngine.render(bad.text!, {}); } catch (e) { asyncMsg = (e as Error).message.split('\n')[0]; }
    expect(asyncMsg).not.toBe('');
    expect(syncErr.message).toContain(asyncMsg);
    // A parse error stays E_TEMPLATE at compile time.
    expect(() => compileContent({ subject: '{{ x | nofilter }}', html: null, text: 'x', category: 'transactional' })).toThrow(expect.objectContaining({ code: 'E_TEMPLATE' }));
  });
});
