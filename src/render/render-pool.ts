import { Worker } from 'node:worker_threads';
import { TegamiError, type ErrorCode } from '../domain/errors.js';
import { renderThreadScript } from './render-bundle.js';
import type { RenderSpec } from './render-message.js';
import { SLOT_BYTES, SLOTS, THREAD_REF_CACHE, type RenderJob } from './render-job.js';

/** Renders copies: in worker threads when `threads` > 0 (RSA signing is CPU work), else inline. */
export interface RenderPool {
  render(spec: RenderSpec): Promise<Buffer>;
  /**
   * Like render, but the bytes may live in the pool's shared slab: call release() once the
   * message has been handed to the next hop (the slot is reused; the buffer must not be read after).
   */
  renderLeased(spec: RenderSpec): Promise<Rendered>;
  close(): Promise<void>;
}

/** A rendered copy and how to give its memory back. */
export interface Rendered {
  raw: Buffer;
  release(): void;
}

const NO_RELEASE = () => {};

/** The thread script: the esbuild bundle, or (when bundling is impossible) the tsx boot file. */
async function threadScript(): Promise<{ url: URL; execArgv?: string[] }> {
  try {
    return { url: await renderThreadScript(), execArgv: withoutTsx(process.execArgv) };
  } catch {
    return { url: new URL('./render-thread-boot.mjs', import.meta.url) };
  }
}

/**
 * The process's flags minus tsx's loader (`--import tsx`, `--require …/tsx/…`): threads inherit
 * execArgv, and the bundled thread needs no loader.
 */
export function withoutTsx(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (['--import', '--require', '-r', '--loader', '--experimental-loader'].includes(flag)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
      if (eq < 0) i++;
      if (/(^|[\\/])tsx([\\/]|$)/.test(value ?? '')) continue;
      out.push(a);
      if (eq < 0 && value !== undefined) out.push(value);
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * Threads get a small young generation: a render is short-lived garbage (~100 KB a copy), and
 * V8's default semi-spaces (up to 16 MB each, per thread) only add resident memory (bench/send).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 6 };

function newThread(url: URL, execArgv: string[] | undefined, slab: SharedArrayBuffer): Worker {
  const base = { resourceLimits: THREAD_LIMITS, workerData: { slab } };
  if (!execArgv) return new Worker(url, base);
  try {
    return new Worker(url, { ...base, execArgv });
  } catch (e) {
    // Some process flags (V8 heap options) are refused per thread: start it without flags then.
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    return new Worker(url, { ...base, execArgv: [] });
  }
}

type Reply = { id: number; raw?: ArrayBuffer; slot?: number; length?: number; missing?: boolean; error?: { code?: string; message: string } };

/**
 * A small pool of render threads so composition and DKIM signing use the other cores while the
 * main thread talks SMTP and SQL. Errors keep their stable code across the thread boundary.
 * Threads start on the first render (after the bundle is ready). A content (the HTML and text of
 * a campaign) and the signing keys are posted to a thread once and then referred to by number,
 * so a copy costs the main thread a few hundred bytes of structured clone rather than the whole
 * content; a thread that no longer holds one asks again (`missing`).
 */
export function createRenderPool(threads: number): RenderPool {
  // Inline rendering loads the renderer (liquidjs, mailauth) on first use; with threads the main
  // thread never loads it at all, only the threads do.
  if (threads <= 0) {
    const render = async (spec: RenderSpec) => (await import('./render-message.js')).renderForRecipient(spec);
    return { render, renderLeased: async (spec) => ({ raw: await render(spec), release: NO_RELEASE }), close: async () => {} };
  }
  type Pending = { resolve: (r: Rendered) => void; reject: (e: unknown) => void; job: RenderJob; full: RenderJob['spec']; w: Worker };
  // The slab's pages become resident only as slots are first used (at most SLOTS × SLOT_BYTES).
  const slab = new SharedArrayBuffer(SLOT_BYTES * SLOTS);
  const freeSlots = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);
  const leased = (slot: number, length: number): Rendered => {
    let done = false;
    return {
      raw: Buffer.from(slab, slot * SLOT_BYTES, length),
      release() { if (!done) { done = true; freeSlots.push(slot); } },
    };
  };
  const pending = new Map<number, Pending>();
  // Refs by object identity: the builder's caches hand out the same content and key objects.
  const refs = new WeakMap<object, number>();
  let nextRef = 1;
  const refOf = (o: object) => {
    let r = refs.get(o);
    if (r === undefined) refs.set(o, (r = nextRef++));
    return r;
  };
  const sent = new Map<Worker, Map<number, true>>();
  const remember = (w: Worker, ref: number) => {
    const m = sent.get(w)!;
    if (m.has(ref)) return true;
    if (m.size >= THREAD_REF_CACHE) m.delete(m.keys().next().value as number);
    m.set(ref, true);
    return false;
  };
  let nextId = 1;
  let turn = 0;
  let closed = false;
  let started: Promise<Worker[]> | null = null;
  const start = async () => {
    const { url, execArgv } = await threadScript();
    if (closed) throw new Error('render pool closed');
    const workers: Worker[] = [];
    for (let i = 0; i < threads; i++) {
      const w = newThread(url, execArgv, slab);
      sent.set(w, new Map());
      w.on('message', (m: Reply) => {
        const p = pending.get(m.id);
        if (!p) return;
        if (m.missing) {
          // The thread dropped a content or keys it had: send this job in full.
          w.postMessage({ ...p.job, spec: p.full });
          return;
        }
        pending.delete(m.id);
        if (!pending.size) for (const x of workers) x.unref();
        const slot = p.job.slot;
        if (m.slot !== undefined && m.slot === slot) return p.resolve(leased(slot, m.length!));
        if (slot !== undefined) freeSlots.push(slot);
        if (m.raw) p.resolve({ raw: Buffer.from(m.raw), release: NO_RELEASE });
        else p.reject(m.error?.code ? new TegamiError(m.error.code as ErrorCode, m.error.message) : new Error(m.error?.message));
      });
      w.on('error', (err) => {
        for (const [id, p] of pending) {
          pending.delete(id);
          if (p.job.slot !== undefined) freeSlots.push(p.job.slot);
          p.reject(err);
        }
      });
      // Idle threads do not keep the process alive; threads with jobs in flight do.
      w.unref();
      workers.push(w);
    }
    return workers;
  };
  const pool: RenderPool = {
    async render(spec) {
      // Unleased: the bytes are the caller's for good, so they travel in a buffer of their own.
      return (await send(spec, false)).raw;
    },
    renderLeased: (spec) => send(spec, true),
    async close() {
      closed = true;
      if (!started) return;
      const workers = await started.catch(() => [] as Worker[]);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
  async function send(spec: RenderSpec, lease: boolean): Promise<Rendered> {
    started ??= start();
    const workers = await started;
    const id = nextId++;
    const w = workers[turn++ % workers.length];
    const contentRef = refOf(spec.content);
    const keysRef = refOf(spec.keys);
    const full = { ...spec, date: spec.date.getTime() };
    const job: RenderJob = {
      id, contentRef, keysRef,
      spec: { ...full, content: remember(w, contentRef) ? undefined : spec.content, keys: remember(w, keysRef) ? undefined : spec.keys },
      slot: lease ? freeSlots.pop() : undefined,
    };
    return new Promise<Rendered>((resolve, reject) => {
      if (!pending.size) for (const x of workers) x.ref();
      pending.set(id, { resolve, reject, job, full, w });
      w.postMessage(job);
    });
  }
  return pool;
}
