import { parentPort } from 'node:worker_threads';
import { isTegamiError } from '../domain/errors.js';
import { renderForRecipient, type RenderSpec } from './render-message.js';

/** Worker-thread side of the render pool: renders, composes and signs one copy per job. */
parentPort!.on('message', async (job: { id: number; spec: RenderSpec }) => {
  try {
    const spec = { ...job.spec, date: new Date(job.spec.date) };
    const raw = await renderForRecipient(spec);
    const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
    parentPort!.postMessage({ id: job.id, raw: ab }, [ab]);
  } catch (e) {
    const err = isTegamiError(e) ? { code: e.code, message: e.message } : { message: (e as Error).message ?? String(e) };
    parentPort!.postMessage({ id: job.id, error: err });
  }
});
