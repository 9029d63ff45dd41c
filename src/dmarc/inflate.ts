import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { fail, isTegamiError, TegamiError } from '../domain/errors.js';

/** How much may come out of one archive: an absolute ceiling and a ratio to the compressed size. */
export interface InflateBudget {
  maxBytes: number;
  maxRatio: number;
}

/** The ratio applies only past 1 MiB: small reports legitimately compress very well. */
const RATIO_FLOOR = 1024 * 1024;

/** The byte ceiling for an input of this compressed size. */
export function ceilingFor(compressed: number, b: InflateBudget): number {
  return Math.min(b.maxBytes, Math.max(RATIO_FLOOR, compressed * b.maxRatio));
}

/**
 * Reads a decompressing stream into memory, destroying it the moment the output passes `ceiling`
 * (zip bombs: nothing is inflated beyond the ceiling, R-AUTH-3 reports stay bounded).
 */
export function collect(stream: Readable | Transform, ceiling: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    const stop = (err: Error) => { if (!done) { done = true; stream.destroy(); reject(err); } };
    stream.on('data', (c: Buffer) => {
      n += c.length;
      if (n > ceiling) {
        stop(new TegamiError('E_DMARC_BOMB', `${what} inflates to more than ${ceiling} bytes; refused`));
        return;
      }
      chunks.push(c);
    });
    stream.on('error', (e) => stop(isTegamiError(e) ? e : new Error(`${what}: ${e.message}`)));
    stream.on('end', () => { if (!done) { done = true; resolve(Buffer.concat(chunks, n)); } });
  });
}

const archiveError = (e: unknown, what: string) => {
  if (isTegamiError(e)) throw e;
  fail('E_DMARC_ARCHIVE', `${what} is corrupt: ${String((e as Error)?.message ?? e).replace(/^[^:]*: /, '').slice(0, 200)}`);
};

/** Length of a gzip member header (RFC 1952 §2.3), or -1 when it is not one. */
function gzipHeaderLength(buf: Buffer, at: number): number {
  if (buf.length - at < 18 || buf[at] !== 0x1f || buf[at + 1] !== 0x8b || buf[at + 2] !== 8) return -1;
  const flg = buf[at + 3];
  let p = at + 10;
  if (flg & 4) p += 2 + buf.readUInt16LE(p);
  for (const bit of [8, 16]) if (flg & bit) { while (p < buf.length && buf[p] !== 0) p++; p++; }
  if (flg & 2) p += 2;
  return p < buf.length ? p - at : -1;
}

/**
 * Gunzips with a ceiling, member by member, checking each CRC-32 and size. Bytes after the last
 * member that do not start another member are ignored: Mimecast appends a CRLF, which zlib's own
 * gunzip refuses as "incorrect header check".
 */
export async function gunzipBounded(buf: Buffer, ceiling: number, what = 'gzip data'): Promise<Buffer> {
  const out: Buffer[] = [];
  let total = 0;
  let at = 0;
  try {
    do {
      const h = gzipHeaderLength(buf, at);
      if (h < 0) fail('E_DMARC_ARCHIVE', `${what} is not gzip data`);
      const inflater = zlib.createInflateRaw();
      const member = collect(inflater, ceiling - total, what);
      inflater.end(buf.subarray(at + h));
      const data = await member;
      const end = at + h + inflater.bytesWritten;
      if (end + 8 > buf.length) fail('E_DMARC_ARCHIVE', `${what} is truncated`);
      if (buf.readUInt32LE(end) !== zlib.crc32(data) || buf.readUInt32LE(end + 4) !== (data.length >>> 0)) fail('E_DMARC_ARCHIVE', `${what} fails its CRC check`);
      out.push(data);
      total += data.length;
      at = end + 8;
    } while (buf[at] === 0x1f && buf[at + 1] === 0x8b);
  } catch (e) {
    archiveError(e, what);
  }
  return Buffer.concat(out, total);
}

/** One file taken out of a zip archive. */
export interface ZipMember { name: string; data: Buffer }

const MAX_ZIP_ENTRIES = 32;

/**
 * Unzips every file member with the ceiling shared by all members (yauzl validates the sizes the
 * archive declares against what really inflates). More than 32 entries is refused.
 */
export async function unzipBounded(buf: Buffer, ceiling: number, what = 'zip archive'): Promise<ZipMember[]> {
  let total = 0;
  const members: ZipMember[] = [];
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false, decodeStrings: true }, (e, z) => (e ? rej(e) : res(z))));
  } catch (e) {
    return archiveError(e, what) as never;
  }
  if (zip.entryCount > MAX_ZIP_ENTRIES) { closeQuietly(zip); fail('E_DMARC_ARCHIVE', `${what} has ${zip.entryCount} entries; at most ${MAX_ZIP_ENTRIES} are read`); }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (/\/$/.test(entry.fileName)) return zip.readEntry();
        if (total + entry.uncompressedSize > ceiling) {
          return reject(new TegamiError('E_DMARC_BOMB', `${what}: ${entry.fileName} declares ${entry.uncompressedSize} bytes, over the ${ceiling}-byte ceiling`));
        }
        zip.openReadStream(entry, (err, rs) => {
          if (err || !rs) return reject(err ?? new Error('no stream'));
          collect(rs, ceiling - total, `${what}: ${entry.fileName}`).then((data) => {
            total += data.length;
            members.push({ name: entry.fileName, data });
            zip.readEntry();
          }, reject);
        });
      });
      zip.readEntry();
    });
  } catch (e) {
    archiveError(e, what);
  } finally {
    closeQuietly(zip);
  }
  return members;
}

function closeQuietly(zip: yauzl.ZipFile): void {
  try { if (zip.isOpen) zip.close(); } catch { /* already closed */ }
}
