/**
 * Group commit: callers submit items one by one; items that arrive while a batch is being
 * written are written together in the next batch (one transaction), and each caller's promise
 * settles after the batch that holds its item has committed. Nothing is answered early.
 */
export function groupCommit<T, R>(write: (items: T[]) => Promise<R[]>, maxBatch = 500) {
  let queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  let running = false;
  async function drain(): Promise<void> {
    running = true;
    while (queue.length) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const out = await write(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]));
      } catch (e) {
        // One bad item must not fail its neighbours: retry them one by one.
        if (batch.length === 1) batch[0].reject(e);
        else {
          for (const b of batch) {
            try {
              b.resolve((await write([b.item]))[0]);
            } catch (e1) {
              b.reject(e1);
            }
          }
        }
      }
    }
    running = false;
  }
  return {
    submit(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!running) setImmediate(() => { if (!running) void drain(); });
      });
    },
  };
}
