import { parentPort } from 'node:worker_threads';
import { SuppressionCsvParser, type ParserState } from './suppressions-csv-parse.js';

/**
 * The suppression CSV import's parse thread (one per large import): carries on the parse the
 * main thread began (its handOff state), text chunks in, ImportBatch values out (their two offset
 * arrays transferred, not copied), so CSV parsing and address validation run beside the main
 * thread's inserts. It says when it has loaded (the main thread parses itself until then); every
 * chunk is acknowledged once parsed (the main thread keeps only a few in flight: flat memory).
 * Messages in: {start: ParserState}, then {chunk: string} | {end: true}.
 * Out: {ready: true}, then {batch} | {ack: true} | {done: summary} | {error: {code, message}}.
 */
const port = parentPort!;
let parser: SuppressionCsvParser | null = null;
const report = (e: unknown) => {
  const err = e as { code?: string; message?: string };
  port.postMessage({ error: { code: err.code, message: err.message ?? String(e) } });
};
let failed = false;
port.on('message', (m: { start?: ParserState; chunk?: string; end?: boolean }) => {
  if (failed) return;
  try {
    if (m.start) {
      parser = new SuppressionCsvParser((batch) => port.postMessage({ batch }, [batch.ends.buffer, batch.kindOf.buffer]), { state: m.start });
    } else if (m.chunk !== undefined) {
      parser!.write(m.chunk);
      port.postMessage({ ack: true });
    } else if (m.end) {
      parser!.end().then((summary) => port.postMessage({ done: summary }), (e) => { failed = true; report(e); });
    }
  } catch (e) {
    failed = true;
    report(e);
  }
});
port.postMessage({ ready: true });
