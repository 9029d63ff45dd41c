import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/**
 * The thread's code, plain CommonJS evaluated in the worker: threads do not inherit tsx's loader,
 * and this is small enough not to need it. It opens its own connection to the same file and runs
 * PASSIVE checkpoints (they never block the main connection's readers or writer) every
 * `intervalMs`, so the checkpoint's page copies and fsync happen off the event loop. It never
 * runs a RESTART or TRUNCATE checkpoint: those hold the writer lock while they wait, and a main
 * connection transaction that read first and then writes gets SQLITE_BUSY at once ("database is
 * locked"). Under sustained writes the main connection bounds the WAL itself (db.ts). It answers every `{ op: 'checkpoint' }` message with the pragma's result (tests, close).
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
// PASSIVE never waits for (or holds off) the main connection's readers and writer.
db.pragma('busy_timeout = 0');
const passive = db.prepare('pragma wal_checkpoint(PASSIVE)');
function run() {
  try { return passive.get(); } catch (e) { return { busy: 1, log: -1, checkpointed: -1, error: String(e && e.message) }; }
}
// A PASSIVE checkpoint with nothing new to copy costs a look at the WAL index and no I/O.
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m && m.op === 'checkpoint') parentPort.postMessage({ id: m.id, result: run() });
  if (m && m.op === 'stop') { clearInterval(timer); try { db.close(); } catch {} parentPort.postMessage({ id: m.id, stopped: true }); }
});
parentPort.postMessage({ ready: true });
`;

/** Result of `pragma wal_checkpoint`: busy flag, frames in the WAL, frames copied to the database. */
export interface CheckpointResult { busy: number; log: number; checkpointed: number; error?: string }

/** A running checkpointer thread. */
export interface Checkpointer {
  /** Runs one PASSIVE checkpoint now, in the thread. */
  checkpoint(): Promise<CheckpointResult>;
  /** Stops the thread and closes its connection. */
  stop(): Promise<void>;
  /** Resolves once the thread has opened its connection (rejects if it could not). */
  ready: Promise<void>;
}

/**
 * Starts a WAL checkpointer for the SQLite file on a thread of its own (the main connection
 * checkpoints only past 4,096 WAL pages, so under normal traffic a commit on the event loop never
 * copies pages or fsyncs the database file). `onExit` is called if the thread dies unexpectedly, so the caller can fall back
 * to automatic checkpoints on the main connection (the WAL must never grow without bound).
 */
export function startCheckpointer(file: string, opts: { intervalMs?: number; onExit?: (err: unknown) => void } = {}): Checkpointer {
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { file, module: require.resolve('better-sqlite3'), intervalMs: opts.intervalMs ?? 100 },
    resourceLimits: { maxYoungGenerationSizeMb: 2 },
  });
  worker.unref();
  let next = 1;
  let stopping = false;
  const waiting = new Map<number, (v: unknown) => void>();
  let readyResolve!: () => void;
  let readyReject!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
  ready.catch(() => {});
  worker.on('message', (m: { id?: number; ready?: boolean }) => {
    if (m.ready) return readyResolve();
    const w = m.id ? waiting.get(m.id) : undefined;
    if (w) { waiting.delete(m.id!); w(m); }
  });
  const died = (err: unknown) => {
    readyReject(err);
    for (const w of waiting.values()) w({ result: { busy: 1, log: -1, checkpointed: -1, error: 'checkpointer stopped' } });
    waiting.clear();
    if (!stopping) opts.onExit?.(err);
  };
  worker.on('error', died);
  worker.on('exit', (code) => died(new Error(`checkpointer exited with code ${code}`)));
  const ask = (op: string) => new Promise<unknown>((resolve) => {
    const id = next++;
    waiting.set(id, resolve);
    worker.postMessage({ op, id });
  });
  return {
    ready,
    async checkpoint() {
      return ((await ask('checkpoint')) as { result: CheckpointResult }).result;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      // The thread is unref'd so it never keeps a process alive; while stopping it must, or a
      // process with nothing else left (a CLI command's last await) exits before the reply
      // arrives, with exit code 13 (unsettled top-level await) and the connection left open.
      worker.ref();
      await Promise.race([ask('stop'), new Promise((r) => setTimeout(r, 2000).unref())]);
      await worker.terminate();
    },
  };
}
