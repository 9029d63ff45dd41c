import { Worker } from 'node:worker_threads';
import { TegamiError, type ErrorCode } from '../domain/errors.js';
import { renderForRecipient, type RenderSpec } from './render-message.js';

/** Renders copies: in worker threads when `threads` > 0 (RSA signing is CPU work), else inline. */
export interface RenderPool {
  render(spec: RenderSpec): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * A small pool of render threads so composition and DKIM signing use the other cores while the
 * main thread talks SMTP and SQL. Errors keep their stable code across the thread boundary.
 */
export function createRenderPool(threads: number): RenderPool {
  if (threads <= 0) return { render: renderForRecipient, close: async () => {} };
  const pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let turn = 0;
  const workers = Array.from({ length: threads }, () => {
    const w = new Worker(new URL('./render-thread-boot.mjs', import.meta.url));
    w.on('message', (m: { id: number; raw?: ArrayBuffer; error?: { code?: string; message: string } }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.raw) p.resolve(Buffer.from(m.raw));
      else p.reject(m.error?.code ? new TegamiError(m.error.code as ErrorCode, m.error.message) : new Error(m.error?.message));
    });
    w.on('error', (err) => {
      for (const [id, p] of pending) { pending.delete(id); p.reject(err); }
    });
    w.unref();
    return w;
  });
  return {
    render(spec) {
      const id = nextId++;
      const w = workers[turn++ % workers.length];
      return new Promise<Buffer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, spec: { ...spec, date: spec.date.getTime() } });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
