import { describe, expect, it } from 'vitest';
import { nodeJson } from './helpers/node-child.js';

/** Runs a module script in a fresh node process (tsx loader) with extra environment; returns its printed JSON. */
const inChild = (script: string, env: Record<string, string> = {}) => nodeJson(['--import', 'tsx', '--input-type=module', '-e', script], env);

/**
 * Issue 3 (bench/send peak RSS): liquid's engines are built with a fixed locale, so neither their
 * construction nor a render asks Intl for the machine's default locale, which maps ~4.3 MB of
 * ICU's locale data into every sending process. Date output is the same on every server.
 */
describe('template engines and ICU (issue 3, memory of the sending process)', () => {
  it('loading the engines and rendering a template never constructs an Intl.DateTimeFormat', () => {
    // Counts Intl.DateTimeFormat calls from before the module loads.
    expect(inChild(`
      let calls = 0;
      const D = Intl.DateTimeFormat;
      Intl.DateTimeFormat = new Proxy(D, { apply: (t, s, a) => { calls++; return Reflect.apply(t, s, a); }, construct: (t, a) => { calls++; return Reflect.construct(t, a); } });
      const { compileContent, renderContent } = await import('./src/render/template.ts');
      const c = compileContent({ subject: 'Hi {{ first }}', html: '<p>{{ first }}</p><a href="{{ unsubscribe_url }}">u</a>', text: null, category: 'subscription' });
      const out = renderContent(c, { first: 'Ann', unsubscribe_url: 'https://x.example/u/t' });
      process.stdout.write(JSON.stringify({ calls, subject: out.subject }));
    `)).toEqual({ calls: 0, subject: 'Hi Ann' });
  });

  it("formats the date filter in the fixed locale (en-US month names) on a server whose own locale is Japanese", () => {
    // Without the fixed locale liquidjs takes the machine's: '3月 04, 2026' under LC_ALL=ja_JP.UTF-8.
    expect(inChild(`
      const { compileContent, renderContent } = await import('./src/render/template.ts');
      const c = compileContent({ subject: '{{ d | date: "%B %d, %Y" }}', html: null, text: 'x', category: 'transactional' });
      process.stdout.write(JSON.stringify({ machine: Intl.DateTimeFormat().resolvedOptions().locale, subject: renderContent(c, { d: '2026-03-04T12:00:00Z' }).subject }));
    `, { LC_ALL: 'ja_JP.UTF-8', TZ: 'UTC' })).toEqual({ machine: 'ja-JP', subject: 'March 04, 2026' });
  });
});
