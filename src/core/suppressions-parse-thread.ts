import { Worker } from 'node:worker_threads';
import { TegamiError, type ErrorCode } from '../domain/errors.js';
import type { ImportBatch } from '../store/suppression-import-batch.js';
import type { ParserState, ParseSummary } from './suppressions-csv-parse.js';

/** Text chunks in flight to the parse thread: flat memory. */
const MAX_CHUNKS_IN_FLIGHT = 16;

/** Waits until `ok()` holds, re-checking whenever the import wakes its waiters. */
export type Until = (ok: () => boolean) => Promise<void>;

/** The main thread's side of a suppression import's parse thread (src/core/suppressions-import-thread.ts). */
export interface ParseThread {
  /** Whether the thread has loaded (it can take the parse over without a wait). */
  ready(): boolean;
  /** Resolves once the thread has loaded; throws if it failed. */
  whenReady(until: Until): Promise<void>;
  /** Hands the thread the parse to carry on (SuppressionCsvParser.handOff). */
  start(state: ParserState): void;
  /** Posts a chunk once fewer than MAX_CHUNKS_IN_FLIGHT are unparsed and `room()` holds. */
  send(chunk: string, room: () => boolean, until: Until): Promise<void>;
  /** Ends the input; resolves with the thread's parse summary after its last batch was handed out. */
  end(until: Until): Promise<ParseSummary>;
  close(): Promise<void>;
}

/** Starts a parse thread; its batches go to `onBatch`, and `wake` is called whenever its state changes. */
export function startParseThread(onBatch: (batch: ImportBatch) => void, wake: () => void): ParseThread {
  const worker = new Worker(new URL('./suppressions-import-thread-boot.mjs', import.meta.url));
  let loaded = false;
  let inFlight = 0;
  let failed: Error | null = null;
  let summary: ParseSummary | null = null;
  const fail = (e: Error) => { failed ??= e; wake(); };
  worker.on('message', (m: { ready?: boolean; batch?: ImportBatch; ack?: boolean; done?: ParseSummary; error?: { code?: string; message: string } }) => {
    if (m.batch !== undefined) onBatch(m.batch);
    else if (m.ack) { inFlight--; wake(); }
    else if (m.ready) { loaded = true; wake(); }
    else if (m.done) { summary = m.done; wake(); }
    else if (m.error) fail(m.error.code ? new TegamiError(m.error.code as ErrorCode, m.error.message) : new Error(m.error.message));
  });
  worker.on('error', (e) => fail(e));
  worker.on('exit', (code) => { if (!summary) fail(new Error(`suppression import parse thread exited with code ${code}`)); });
  return {
    ready: () => loaded,
    async whenReady(until) {
      await until(() => failed !== null || loaded);
      if (failed) throw failed;
    },
    start(state) {
      worker.postMessage({ start: state });
    },
    async send(chunk, room, until) {
      await until(() => failed !== null || (inFlight < MAX_CHUNKS_IN_FLIGHT && room()));
      if (failed) throw failed;
      inFlight++;
      worker.postMessage({ chunk });
    },
    async end(until) {
      if (failed) throw failed;
      worker.postMessage({ end: true });
      await until(() => failed !== null || summary !== null);
      if (failed) throw failed;
      return summary!;
    },
    async close() {
      await worker.terminate();
    },
  };
}
