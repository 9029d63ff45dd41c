import type { RenderSpec } from './render-message.js';

/** A job as posted to a render thread: the content and keys travel once per thread, later jobs name them by ref. */
export interface RenderJob {
  id: number;
  spec: Omit<RenderSpec, 'date' | 'content' | 'keys'> & { date: number; content?: RenderSpec['content']; keys?: RenderSpec['keys'] };
  contentRef: number;
  keysRef: number;
}

/** How many contents and key sets a thread keeps, and the pool remembers as sent, per thread. */
export const THREAD_REF_CACHE = 256;
