import { parentPort } from 'node:worker_threads';
import { SuppressionCsvParser } from './suppressions-csv-parse.js';

/**
 * The suppression CSV import's parse thread (one per large import): text chunks in, ImportBatch
 * values out (their two offset arrays transferred, not copied), so CSV parsing and address
 * validation run beside the main thread's inserts. Every chunk is acknowledged once parsed (the
 * main thread keeps only a few in flight: flat memory).
 * Messages in: {chunk: string} | {end: true}. Out: {batch} | {ack: true} | {done: summary} | {error: {code, message}}.
 */
const port = parentPort!;
const parser = new SuppressionCsvParser((batch) => port.postMessage({ batch }, [batch.ends.buffer, batch.kindOf.buffer]));
const report = (e: unknown) => {
  const err = e as { code?: string; message?: string };
  port.postMessage({ error: { code: err.code, message: err.message ?? String(e) } });
};
let failed = false;
port.on('message', (m: { chunk?: string; end?: boolean }) => {
  if (failed) return;
  try {
    if (m.chunk !== undefined) {
      parser.write(m.chunk);
      port.postMessage({ ack: true });
    } else if (m.end) {
      parser.end().then((summary) => port.postMessage({ done: summary }), (e) => { failed = true; report(e); });
    }
  } catch (e) {
    failed = true;
    report(e);
  }
});
