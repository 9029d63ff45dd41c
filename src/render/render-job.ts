import type { RenderSpec } from './render-message.js';

/** A job as posted to a render thread: the content and keys travel once per thread, later jobs name them by ref. */
export interface RenderJob {
  id: number;
  spec: Omit<RenderSpec, 'date' | 'content' | 'keys'> & { date: number; content?: RenderSpec['content']; keys?: RenderSpec['keys'] };
  contentRef: number;
  keysRef: number;
  /** The slab slot to write the signed bytes into (absent: transfer them in a fresh ArrayBuffer). */
  slot?: number;
}

/**
 * The copies in flight between a render thread and the transport live in one SharedArrayBuffer
 * slab of fixed slots, owned by the pool: a slot is reused as soon as its message was handed to
 * the next hop, instead of a fresh buffer per copy whose memory the main thread's garbage
 * collector returns only much later (bench/send peak RSS). A copy larger than a slot, or one
 * rendered while every slot is taken, is transferred in its own ArrayBuffer instead.
 */
export const SLOT_BYTES = 128 * 1024;
export const SLOTS = 128;

/** How many contents and key sets a thread keeps, and the pool remembers as sent, per thread. */
export const THREAD_REF_CACHE = 256;
