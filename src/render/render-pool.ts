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

/** How the pool shares work with the thread it is created on. */
export interface RenderPoolOptions {
  /**
   * The calling (main) thread renders copies too whenever every render thread already has
   * THREAD_INFLIGHT jobs and more are waiting: one copy per event-loop turn, the newest first, so
   * the threads are never starved and I/O callbacks still run between copies. For a dedicated
   * sending worker, whose main thread otherwise idles half of the time while its render thread is
   * the bottleneck (bench/send); not for a process that answers HTTP (one-click p99).
   */
  mainHelps?: boolean;
  /** Called with each render thread the pool starts (tests, diagnostics). */
  onThread?: (w: Worker) => void;
}

/**
 * Jobs a render thread holds at once: enough that it never waits for the main thread (which may
 * be rendering a copy of its own, or busy with SQL and SMTP) to post the next one, few enough
 * that the rest stay in the pool's queue, where the main thread can take them.
 */
export const THREAD_INFLIGHT = 4;

/**
 * A small pool of render threads so composition and DKIM signing use the other cores while the
 * main thread talks SMTP and SQL. Errors keep their stable code across the thread boundary.
 * Threads start on the first render (after the bundle is ready). A content (the HTML and text of
 * a campaign) and the signing keys are posted to a thread once and then referred to by number,
 * so a copy costs the main thread a few hundred bytes of structured clone rather than the whole
 * content; a thread that no longer holds one asks again (`missing`). Jobs wait in one queue and
 * each thread holds at most THREAD_INFLIGHT of them (see RenderPoolOptions.mainHelps).
 */
export function createRenderPool(threads: number, opts: RenderPoolOptions = {}): RenderPool {
  // Inline rendering loads the renderer (liquidjs, mailauth) on first use; with threads the main
  // thread loads it only if it helps.
  // The module is imported once: an `import()` per copy resolves the specifier again each time
  // (under tsx a round trip to its loader thread: ~0.1 of a core in bench/scale).
  let renderer: Promise<(spec: RenderSpec) => Promise<Buffer>> | null = null;
  const renderInline = async (spec: RenderSpec) => (await (renderer ??= import('./render-message.js').then((m) => m.renderForRecipient)))(spec);
  // A main thread that helps the threads loads their bundle (the libraries' unused parts left
  // out, render-bundle.ts): ~3 MB less resident than the full modules (bench/send, 30,000 copies).
  let bundled: Promise<(spec: RenderSpec) => Promise<Buffer>> | null = null;
  const renderHelping = async (spec: RenderSpec) => {
    bundled ??= threadScript().then(async ({ url, execArgv }) => (execArgv ? (await import(url.href)).renderForRecipient : renderInline));
    return (await bundled)(spec);
  };
  if (threads <= 0) {
    return { render: renderInline, renderLeased: async (spec) => ({ raw: await renderInline(spec), release: NO_RELEASE }), close: async () => {} };
  }
  type Queued = { resolve: (r: Rendered) => void; reject: (e: unknown) => void; spec: RenderSpec; lease: boolean };
  type Posted = Queued & { job: RenderJob; full: RenderJob['spec']; w: Worker };
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
  const pending = new Map<number, Posted>();
  const queue: Queued[] = [];
  const inflight = new Map<Worker, number>();
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
  let closed = false;
  let helping = false;
  let workers: Worker[] = [];
  let started: Promise<Worker[]> | null = null;
  const fail = (p: Queued | Posted, err: unknown) => {
    if ('job' in p && p.job.slot !== undefined) freeSlots.push(p.job.slot);
    p.reject(err);
  };
  const post = (w: Worker, q: Queued) => {
    const id = nextId++;
    const contentRef = refOf(q.spec.content);
    const keysRef = refOf(q.spec.keys);
    const full = { ...q.spec, date: q.spec.date.getTime() };
    const job: RenderJob = {
      id, contentRef, keysRef,
      spec: { ...full, content: remember(w, contentRef) ? undefined : q.spec.content, keys: remember(w, keysRef) ? undefined : q.spec.keys },
      slot: q.lease ? freeSlots.pop() : undefined,
    };
    if (!pending.size) for (const x of workers) x.ref();
    pending.set(id, { ...q, job, full, w });
    inflight.set(w, inflight.get(w)! + 1);
    w.postMessage(job);
  };
  /** Tops up every thread to THREAD_INFLIGHT jobs; what is left waits, for a thread or the main thread. */
  const pump = () => {
    for (const w of workers) {
      while (queue.length && inflight.get(w)! < THREAD_INFLIGHT) post(w, queue.shift()!);
    }
    if (opts.mainHelps && queue.length && !helping) {
      helping = true;
      setImmediate(help);
    }
  };
  /** One copy rendered on this thread, the newest waiting (the threads take the oldest). */
  const help = () => {
    const q = queue.pop();
    if (!q) { helping = false; return; }
    renderHelping(q.spec).then((raw) => q.resolve({ raw, release: NO_RELEASE }), q.reject).finally(() => {
      helping = false;
      pump();
    });
  };
  const start = async () => {
    const { url, execArgv } = await threadScript();
    if (closed) throw new Error('render pool closed');
    const ws: Worker[] = [];
    for (let i = 0; i < threads; i++) {
      const w = newThread(url, execArgv, slab);
      sent.set(w, new Map());
      inflight.set(w, 0);
      w.on('message', (m: Reply) => {
        const p = pending.get(m.id);
        if (!p) return;
        if (m.missing) {
          // The thread dropped a content or keys it had: send this job in full.
          w.postMessage({ ...p.job, spec: p.full });
          return;
        }
        pending.delete(m.id);
        inflight.set(w, inflight.get(w)! - 1);
        if (!pending.size) for (const x of ws) x.unref();
        const slot = p.job.slot;
        if (m.slot !== undefined && m.slot === slot) p.resolve(leased(slot, m.length!));
        else {
          if (slot !== undefined) freeSlots.push(slot);
          if (m.raw) p.resolve({ raw: Buffer.from(m.raw), release: NO_RELEASE });
          else p.reject(m.error?.code ? new TegamiError(m.error.code as ErrorCode, m.error.message) : new Error(m.error?.message));
        }
        pump();
      });
      // A thread that died (an uncaught error, or it exited: out of memory, terminated) takes its
      // jobs and the waiting ones with it (the sending worker defers those messages and retries
      // them); the other threads are stopped too and the next render starts a fresh set.
      const lost = (err: Error) => {
        if (started === null || !workers.includes(w)) return;
        started = null;
        workers = [];
        for (const x of ws) {
          if (x !== w) void x.terminate();
          inflight.delete(x);
          sent.delete(x);
        }
        for (const [id, p] of pending) { pending.delete(id); fail(p, err); }
        for (const q of queue.splice(0)) fail(q, err);
      };
      w.on('error', lost);
      w.on('exit', (code) => { if (!closed) lost(new Error(`render thread exited with code ${code}`)); });
      // Idle threads do not keep the process alive; threads with jobs in flight do.
      w.unref();
      ws.push(w);
      opts.onThread?.(w);
    }
    workers = ws;
    return ws;
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
      const ws = await started.catch(() => [] as Worker[]);
      await Promise.all(ws.map((w) => w.terminate()));
    },
  };
  async function send(spec: RenderSpec, lease: boolean): Promise<Rendered> {
    started ??= start();
    await started;
    return new Promise<Rendered>((resolve, reject) => {
      queue.push({ resolve, reject, spec, lease });
      pump();
    });
  }
  return pool;
}
