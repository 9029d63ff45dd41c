import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { verifyDkim } from './helpers/dkim.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createRenderPool, THREAD_INFLIGHT, withoutTsx } from '../src/render/render-pool.js';
import { renderThreadScript, THREAD_STUB_SOURCE } from '../src/render/render-bundle.js';
import { SLOT_BYTES, SLOTS } from '../src/render/render-job.js';
import { renderForRecipient, type RenderSpec } from '../src/render/render-message.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;
const spec = (i: number, over: Partial<RenderSpec['content']> = {}): RenderSpec => ({
  cacheKey: `test:${JSON.stringify(over)}`,
  content: {
    kind: 'api', from: { name: 'News', address: 'news@pool.example' }, replyTo: null, to: [], cc: [], subject: 'Hi {{ first }}',
    html: '<p>Hello {{ first }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>', text: null, data: {}, attachments: [], headers: {},
    category: 'subscription', listId: null, ...over,
  } as never,
  recipient: { address: `u${i}@rcpt.example`, attributes: { first: `Name${i}` } },
  messageId: `<m${i}@pool.example>`, date: new Date(1_700_000_000_000 + i),
  list: { name: 'News', label: 'l1', namespace: 'pool.example' },
  unsubscribe: { url: `https://pool.example/u/t${i}`, mailto: `mailto:u+t${i}@b.pool.example?subject=unsubscribe`, preferencesUrl: `https://pool.example/u/t${i}/preferences` },
  feedbackId: 'c:a:subscription:tegami',
  keys: { domain: 'pool.example', rsa: { selector: 'r1', privateKey: rsa }, ed25519: { selector: 'e1', privateKey: ed } },
});

/** Without the DKIM-Signature fields (signed by the thread, checked below) and with the random MIME boundary normalised. */
const norm = (b: Buffer) => b.toString('utf8').replace(/^DKIM-Signature:.*\r\n([ \t].*\r\n)*/gm, '')
  .replace(/_NmP-[0-9a-f]+-Part_\d+/g, 'BOUNDARY');
const pub = (k: typeof rsa) => createPublicKey(k).export({ type: 'spki', format: 'der' }).toString('base64');
const resolver = async (name: string) => {
  if (name === 'r1._domainkey.pool.example') return [[`v=DKIM1; k=rsa; p=${pub(rsa)}`]];
  if (name === 'e1._domainkey.pool.example') return [[`v=DKIM1; k=ed25519; p=${pub(ed).slice(-44)}`]];
  throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
};

describe('render pool (threads run the esbuild bundle, no TypeScript loader)', () => {
  const pool = createRenderPool(2);
  afterAll(() => pool.close());

  it('bundles the render thread into one plain module in the temp directory, keyed by content', async () => {
    const url = await renderThreadScript();
    expect(url.pathname).toMatch(/tegami-render-[0-9a-f]{20}\.mjs$/);
    const code = readFileSync(fileURLToPath(url), 'utf8');
    expect(code).not.toMatch(/from ['"]tsx/);
    expect(code).toContain('mailauth');
    expect(await renderThreadScript()).toEqual(url);
  });

  it('leaves the never-called libraries (Joi, iconv-lite, encoding-japanese) out of the bundle as loud stubs', async () => {
    const code = readFileSync(fileURLToPath(await renderThreadScript()), 'utf8');
    // Each library's own code is absent: iconv-lite's DBCS codec, encoding-japanese's tables, Joi's schemas.
    expect(code).not.toContain('_dbcs');
    expect(code).not.toContain('JIS_TO_UTF8_TABLE');
    expect(code).not.toContain('isSchema');
    expect(code).toContain('is stubbed out of the bundle');
    // The stub lets the load-time chain through and throws where a library would really work.
    const mod = { exports: undefined as any };
    new Function('module', THREAD_STUB_SOURCE)(mod);
    const joi = mod.exports;
    const schema = joi.string().base64({ paddingRequired: false });
    expect(() => schema.validate('abc')).toThrow(/joi|validate|stubbed/);
    expect(() => mod.exports.decode(Buffer.from('x'), 'sjis')).toThrow(/stubbed/);
  });

  it('renders in threads the same bytes as inline (apart from boundary and signature values)', async () => {
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.render(spec(i))));
    for (let i = 0; i < 20; i++) {
      const inline = await renderForRecipient(spec(i));
      expect(norm(out[i])).toBe(norm(inline));
      expect(out[i].toString()).toContain(`Hello Name${i}`);
      expect(out[i].toString()).toContain(`https://pool.example/u/t${i}`);
    }
    const results = await verifyDkim(out[3], resolver);
    expect(results.map((r) => `${r.algo}:${r.status.result}`).sort()).toEqual(['ed25519-sha256:pass', 'rsa-sha256:pass']);
  });

  it('posts a content and keys once per thread and still renders right after its caches turn over', async () => {
    const one = createRenderPool(1);
    try {
      const contents = Array.from({ length: 300 }, (_, k) => spec(k, { subject: `Issue ${k} for {{ first }}` }).content);
      const keys = spec(0).keys;
      const withContent = (k: number, i: number) => ({ ...spec(i), cacheKey: `turnover:${k}`, content: contents[k], keys });
      for (let k = 0; k < 300; k++) expect((await one.render(withContent(k, k))).toString()).toContain(`Subject: Issue ${k} for Name${k}`);
      // Content 0 was dropped by both sides (256 kept): it is posted again in full.
      expect((await one.render(withContent(0, 7))).toString()).toContain('Subject: Issue 0 for Name7');
      // New key objects (a rotation) are posted and used: the signature verifies with the new keys only.
      const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const out = await one.render({ ...withContent(5, 5), keys: { ...keys, rsa: { selector: 'r2', privateKey: rsa2 } } });
      const results = await verifyDkim(out, async (name: string) => {
        if (name === 'r2._domainkey.pool.example') return [[`v=DKIM1; k=rsa; p=${pub(rsa2)}`]];
        return resolver(name);
      });
      expect(results.map((r) => `${r.algo}:${r.status.result}`).sort()).toEqual(['ed25519-sha256:pass', 'rsa-sha256:pass']);
    } finally {
      await one.close();
    }
  });

  it('keeps the stable error code across the thread boundary', async () => {
    await expect(pool.render(spec(1, { subject: 'Hi {{ first ' }))).rejects.toMatchObject({ code: 'E_TEMPLATE' });
  });

  it('drops only the tsx loader from the flags threads inherit', () => {
    expect(withoutTsx(['--import', 'tsx', '--max-old-space-size=200', '--require', '/x/node_modules/tsx/dist/preflight.cjs', '--import=file:///x/node_modules/tsx/dist/loader.mjs', '--import', 'other', '--cpu-prof']))
      .toEqual(['--max-old-space-size=200', '--import', 'other', '--cpu-prof']);
  });
});

describe('render pool slab (issue 3, bounded memory for copies in flight)', () => {
  it('hands out slab-backed copies until they are released, then reuses the slots without touching copies still held', async () => {
    const pool = createRenderPool(1);
    try {
      // More leases than slots, all held at once: the ones past the slab get buffers of their own.
      const held = await Promise.all(Array.from({ length: SLOTS + 5 }, (_, i) => pool.renderLeased(spec(i))));
      const inSlab = held.filter((r) => r.raw.buffer instanceof SharedArrayBuffer);
      expect(inSlab).toHaveLength(SLOTS);
      expect(new Set(inSlab.map((r) => r.raw.byteOffset)).size).toBe(SLOTS);
      expect(inSlab.every((r) => r.raw.byteOffset % SLOT_BYTES === 0 && r.raw.length <= SLOT_BYTES)).toBe(true);
      held.forEach((r, i) => expect(r.raw.toString()).toContain(`https://pool.example/u/t${i}`));
      const keep = held[3].raw.toString();
      // Release all but one; new copies reuse the freed slots and leave the held one intact.
      held.forEach((r, i) => { if (i !== 3) r.release(); });
      const again = await Promise.all(Array.from({ length: SLOTS }, (_, i) => pool.renderLeased(spec(1000 + i))));
      expect(again.filter((r) => r.raw.buffer instanceof SharedArrayBuffer)).toHaveLength(SLOTS - 1);
      again.forEach((r, i) => expect(r.raw.toString()).toContain(`https://pool.example/u/t${1000 + i}`));
      expect(held[3].raw.toString()).toBe(keep);
      const results = await verifyDkim(Buffer.from(again[7].raw), resolver);
      expect(results.map((r) => `${r.algo}:${r.status.result}`).sort()).toEqual(['ed25519-sha256:pass', 'rsa-sha256:pass']);
      // A second release of the same lease does not free a slot twice.
      held[3].release();
      held[3].release();
      const after = await Promise.all(Array.from({ length: 2 }, (_, i) => pool.renderLeased(spec(2000 + i))));
      expect(after.filter((r) => r.raw.buffer instanceof SharedArrayBuffer)).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('transfers a copy larger than a slot in a buffer of its own', async () => {
    const pool = createRenderPool(1);
    try {
      const big = await pool.renderLeased(spec(1, { html: `<p>${'x'.repeat(200 * 1024)} {{ first }}</p><a href="{{ unsubscribe_url }}">u</a>` }));
      expect(big.raw.buffer instanceof SharedArrayBuffer).toBe(false);
      expect(big.raw.length).toBeGreaterThan(200 * 1024);
      big.release();
    } finally {
      await pool.close();
    }
  });
});

describe('render pool: the main thread helps a busy render thread (issue 3, bench/send)', () => {
  const inSlab = (r: { raw: Buffer }) => r.raw.buffer instanceof SharedArrayBuffer;

  it('renders the copies waiting beyond what the thread holds on the main thread, with the same bytes and both signatures passing', async () => {
    const pool = createRenderPool(1, { mainHelps: true });
    try {
      const n = 40;
      const out = await Promise.all(Array.from({ length: n }, (_, i) => pool.renderLeased(spec(i))));
      // Copies the thread rendered live in the slab; the main thread's are buffers of its own.
      const byMain = out.filter((r) => !inSlab(r)).length;
      expect(byMain).toBeGreaterThan(0);
      expect(n - byMain).toBeGreaterThanOrEqual(THREAD_INFLIGHT);
      for (let i = 0; i < n; i++) {
        expect(norm(out[i].raw)).toBe(norm(await renderForRecipient(spec(i))));
        expect(out[i].raw.toString()).toContain(`https://pool.example/u/t${i}`);
      }
      for (const r of [out.find(inSlab)!, out.find((x) => !inSlab(x))!]) {
        const results = await verifyDkim(Buffer.from(r.raw), resolver);
        expect(results.map((x) => `${x.algo}:${x.status.result}`).sort()).toEqual(['ed25519-sha256:pass', 'rsa-sha256:pass']);
      }
      out.forEach((r) => r.release());
    } finally {
      await pool.close();
    }
  });

  it('does not help while the thread holds every waiting copy (at most THREAD_INFLIGHT), nor when not asked to', async () => {
    const helping = createRenderPool(1, { mainHelps: true });
    const alone = createRenderPool(1);
    try {
      const few = await Promise.all(Array.from({ length: THREAD_INFLIGHT }, (_, i) => helping.renderLeased(spec(i))));
      expect(few.every(inSlab)).toBe(true);
      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => alone.renderLeased(spec(i))));
      expect(many.every(inSlab)).toBe(true);
      [...few, ...many].forEach((r) => r.release());
    } finally {
      await helping.close();
      await alone.close();
    }
  });

  it('keeps the stable error code of a copy rendered by either thread', async () => {
    const pool = createRenderPool(1, { mainHelps: true });
    try {
      const bad = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => pool.render(spec(i, { subject: 'Hi {{ first ' }))));
      expect(bad.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'E_TEMPLATE')).toBe(true);
      // The pool goes on rendering after the failures.
      expect((await pool.render(spec(1))).toString()).toContain('Hello Name1');
    } finally {
      await pool.close();
    }
  });
});

describe('render pool: a render thread that dies (issue 3: the sending worker defers and retries)', () => {
  it('fails the copies it held and the waiting ones with an error, frees their slots, and renders on a fresh thread next time', async () => {
    const threads: import('node:worker_threads').Worker[] = [];
    const pool = createRenderPool(1, { onThread: (w) => threads.push(w) });
    try {
      (await pool.renderLeased(spec(0))).release();
      expect(threads).toHaveLength(1);
      // A burst: THREAD_INFLIGHT copies go to the thread, the rest wait in the queue; the thread
      // exits (as on running out of memory) before they are done.
      const burst = Array.from({ length: 12 }, (_, i) => pool.renderLeased(spec(i)));
      const settled = Promise.allSettled(burst);
      await threads[0].terminate();
      const out = await settled;
      const failed = out.filter((r) => r.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) expect(String((f as PromiseRejectedResult).reason)).toMatch(/render thread exited/);
      for (const r of out) if (r.status === 'fulfilled') r.value.release();
      // The next copies start a fresh thread, and every slot came back: the whole slab's worth of
      // copies held at once still all live in the slab (a slot a failed copy kept would make
      // one of them a buffer of its own).
      const again = await Promise.all(Array.from({ length: SLOTS }, (_, i) => pool.renderLeased(spec(i))));
      expect(threads).toHaveLength(2);
      expect(again.every((r) => r.raw.buffer instanceof SharedArrayBuffer)).toBe(true);
      expect(again[7].raw.toString()).toContain('Hello Name7');
      again.forEach((r) => r.release());
    } finally {
      await pool.close();
    }
  });
});
