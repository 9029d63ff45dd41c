import { describe, expect, it } from 'vitest';
import { assertVisibleUnsubscribe } from '../src/compliance/preflight.js';
import { previewContent } from '../src/render/render-message.js';

const content = (html: string) => ({
  kind: 'api' as const, from: { name: null, address: 'news@solarmora.com' }, replyTo: null, to: [], cc: [], subject: 's', html, text: null,
  data: {}, attachments: [], headers: {}, category: 'subscription' as const, listId: 'lst_1',
});

describe('visible unsubscribe link on rendered content (R-UNSUB-10)', () => {
  it('accepts tegami\'s footer and a visible link of the template', async () => {
    assertVisibleUnsubscribe(await previewContent(content('<p>Hello</p>') as never, { address: 'a@example.net' }) as never, 'subscription');
    assertVisibleUnsubscribe(await previewContent(content('<p>Hi <a href="{{ unsubscribe_url }}">配信停止</a></p>') as never, { address: 'a@example.net' }) as never, 'subscription');
  });
  it('refuses a hidden link with the rule id, and ignores transactional mail', async () => {
    for (const style of ['display:none', 'visibility: hidden', 'font-size:0px', 'opacity:0']) {
      const r = await previewContent(content(`<p>Hi</p><a href="{{ unsubscribe_url }}" style="${style}">Unsubscribe</a>`) as never, { address: 'a@example.net' });
      expect(() => assertVisibleUnsubscribe(r as never, 'subscription'), style).toThrow(expect.objectContaining({ code: 'E_COMPLIANCE', details: { rule: 'R-UNSUB-10' } }));
    }
    assertVisibleUnsubscribe({ html: '<p>receipt</p>', text: null }, 'transactional');
  });
});
