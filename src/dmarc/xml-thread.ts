import { parentPort, workerData } from 'node:worker_threads';
import { isTegamiError } from '../domain/errors.js';
import { parseAggregateXml } from './parse-xml.js';

/** Parses one report in this thread and posts the report or the error's stable code back. */
const { buf, limits } = workerData as { buf: Uint8Array; limits: { maxXmlBytes: number; maxRecords: number } };
try {
  parentPort!.postMessage({ report: parseAggregateXml(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), limits) });
} catch (e) {
  parentPort!.postMessage({ error: isTegamiError(e) ? { code: e.code, message: e.message } : { message: String((e as Error)?.message ?? e) } });
}
