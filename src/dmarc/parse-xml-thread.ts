import { Worker } from 'node:worker_threads';
import { fail, TegamiError, type ErrorCode } from '../domain/errors.js';
import { parseAggregateXml } from './parse-xml.js';
import type { ParsedReport } from './report-types.js';

/** Reports up to this size parse inline (a few ms); larger ones in a thread of their own. */
export const INLINE_XML_BYTES = 512 * 1024;
const THREAD_TIMEOUT_MS = 120_000;
const THREAD_HEAP_MB = 768;

/**
 * Parses report XML without blocking the event loop on large reports: a one-off worker thread
 * with a heap limit and a time limit, so a huge or pathological report can neither stall the API
 * and SMTP server nor take the process's memory. Errors keep their E_DMARC_* codes.
 */
export async function parseXmlOffThread(buf: Buffer, limits: { maxXmlBytes: number; maxRecords: number }): Promise<ParsedReport> {
  if (buf.length <= INLINE_XML_BYTES) return parseAggregateXml(buf, limits);
  if (buf.length > limits.maxXmlBytes) fail('E_DMARC_TOO_LARGE', `the XML is ${buf.length} bytes; the limit is ${limits.maxXmlBytes}`);
  const worker = new Worker(new URL('./xml-thread-boot.mjs', import.meta.url), {
    workerData: { buf, limits }, resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
  });
  try {
    return await new Promise<ParsedReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TegamiError('E_DMARC_TOO_LARGE', `parsing took longer than ${THREAD_TIMEOUT_MS / 1000} s`)), THREAD_TIMEOUT_MS);
      worker.once('message', (m: { report?: ParsedReport; error?: { code?: string; message: string } }) => {
        clearTimeout(timer);
        if (m.report) resolve(m.report);
        else reject(m.error?.code ? new TegamiError(m.error.code as ErrorCode, m.error.message) : new Error(m.error?.message));
      });
      worker.once('error', (err: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new TegamiError('E_DMARC_TOO_LARGE', 'the report needs more memory than a parse may use') : err);
      });
      worker.once('exit', (code) => { clearTimeout(timer); reject(new Error(`XML parse thread exited with code ${code}`)); });
    });
  } finally {
    await worker.terminate();
  }
}
