/**
 * Group commit: callers submit items one by one; items that arrive while a batch is being
 * written are written together in the next batch (one transaction), and each caller's promise
 * settles after the batch that holds its item has committed. Nothing is answered early.
 */
export function groupCommit<T, R>(write: (items: T[]) => Promise<R[]>, maxBatch = 500) {
  type Waiter = { resolve: (r: R) => void; reject: (e: unknown) => void };
  // Parallel arrays: the batch's items go to `write` as they are, with no per-batch copy.
  let items: T[] = [];
  let waiters: Waiter[] = [];
  // One setImmediate per batch, not one per submitted item (issue 4 bench: a batch of ~30).
  let scheduled = false;
  let running = false;
  async function drain(): Promise<void> {
    scheduled = false;
    running = true;
    while (items.length) {
      let batch = items;
      let ws = waiters;
      if (batch.length > maxBatch) {
        batch = items.slice(0, maxBatch);
        ws = waiters.slice(0, maxBatch);
        items = items.slice(maxBatch);
        waiters = waiters.slice(maxBatch);
      } else {
        items = [];
        waiters = [];
      }
      try {
        const out = await write(batch);
        for (let i = 0; i < ws.length; i++) ws[i].resolve(out[i]);
      } catch (e) {
        // One bad item must not fail its neighbours: retry them one by one.
        if (batch.length === 1) ws[0].reject(e);
        else {
          for (let i = 0; i < batch.length; i++) {
            try {
              ws[i].resolve((await write([batch[i]]))[0]);
            } catch (e1) {
              ws[i].reject(e1);
            }
          }
        }
      }
    }
    running = false;
  }
  const start = () => { if (!running) void drain(); };
  return {
    submit(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        items.push(item);
        waiters.push({ resolve, reject });
        // A running drain picks the item up in its next round; otherwise start one after this
        // turn of the event loop, so the requests read in this turn share its transaction.
        if (!running && !scheduled) {
          scheduled = true;
          setImmediate(start);
        }
      });
    },
  };
}
