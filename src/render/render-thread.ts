import { parentPort, workerData } from 'node:worker_threads';
import { isTegamiError } from '../domain/errors.js';
import { renderForRecipient, type RenderSpec } from './render-message.js';
import { SLOT_BYTES, THREAD_REF_CACHE, type RenderJob } from './render-job.js';

const slab = (workerData as { slab?: SharedArrayBuffer } | null)?.slab ?? null;

const contents = new Map<number, RenderSpec['content']>();
const keys = new Map<number, RenderSpec['keys']>();

function keep<V>(m: Map<number, V>, ref: number, v: V | undefined): V | undefined {
  if (v === undefined) return m.get(ref);
  if (!m.has(ref) && m.size >= THREAD_REF_CACHE) m.delete(m.keys().next().value as number);
  m.set(ref, v);
  return v;
}

/**
 * The same renderer for a main thread that helps (render-pool.ts, RenderPoolOptions.mainHelps):
 * it imports this bundle too, so it loads the lean bundled libraries rather than the full ones.
 */
export { renderForRecipient };

/** Worker-thread side of the render pool: renders, composes and signs one copy per job. */
parentPort?.on('message', async (job: RenderJob) => {
  try {
    const content = keep(contents, job.contentRef, job.spec.content);
    const signing = keep(keys, job.keysRef, job.spec.keys);
    if (!content || !signing) {
      parentPort!.postMessage({ id: job.id, missing: true });
      return;
    }
    const spec: RenderSpec = { ...job.spec, content, keys: signing, date: new Date(job.spec.date) };
    const raw = await renderForRecipient(spec);
    if (slab && job.slot !== undefined && raw.length <= SLOT_BYTES) {
      raw.copy(new Uint8Array(slab, job.slot * SLOT_BYTES, raw.length));
      parentPort!.postMessage({ id: job.id, slot: job.slot, length: raw.length });
      return;
    }
    // A buffer of its own is transferred as is; a view into a shared pool is copied out first.
    const whole = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
    const ab = (whole ? raw.buffer : raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) as ArrayBuffer;
    parentPort!.postMessage({ id: job.id, raw: ab }, [ab]);
  } catch (e) {
    const err = isTegamiError(e) ? { code: e.code, message: e.message } : { message: (e as Error).message ?? String(e) };
    parentPort!.postMessage({ id: job.id, error: err });
  }
});
