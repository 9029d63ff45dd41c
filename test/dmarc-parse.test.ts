import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { isTegamiError } from '../src/domain/errors.js';
import { parseReportInput, sniff } from '../src/dmarc/parse-input.js';
import { parseAggregateXml } from '../src/dmarc/parse-xml.js';
import { OWN_DMARC, readManifest, sharedAvailable, sharedFile } from './fixtures/dmarc/manifest.js';
import { reportXml } from './fixtures/dmarc/report-xml.js';

const LIMITS = defaultConfig().dmarc;
const own = (f: string) => readFileSync(join(OWN_DMARC, f));

/** The E_DMARC_* code a parse refuses with (fails the test when it does not refuse). */
async function refusal(input: Buffer, limits = LIMITS): Promise<string> {
  try {
    await parseReportInput(input, limits, 'test');
  } catch (e) {
    if (!isTegamiError(e)) throw e;
    return e.code;
  }
  throw new Error('expected a refusal');
}

/** Stored zip (method 0 or 8) with honest or lying sizes, built by hand so the test controls every field. */
function zipOf(entries: Array<{ name: string; data: Buffer; declared?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const comp = zlib.deflateRawSync(e.data);
    const name = Buffer.from(e.name);
    const size = e.declared ?? e.data.length;
    const crc = zlib.crc32(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0, 6); lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(size, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(size, 24); ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, comp);
    centrals.push(ch, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A gzip that claims `blocks` MiB of zeros in a few KB: one full-flushed deflate block repeated. */
function gzipBomb(blocks: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  return Buffer.concat([header, ...Array(blocks).fill(block), Buffer.from([3, 0]), Buffer.alloc(8)]);
}

function memoryProbe() {
  global.gc?.();
  const start = process.memoryUsage();
  let peak = start.rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  return { stop: () => { clearInterval(timer); peak = Math.max(peak, process.memoryUsage().rss); return { rssGrowth: peak - start.rss }; } };
}

describe('DMARC report parser: the shared corpus (issue 9)', () => {
  const have = sharedAvailable();
  it.skipIf(!have)('parses every valid report with the manifest\'s figures and refuses the malformed ones with a clean code', async () => {
    const rows = readManifest();
    expect(rows.length).toBe(26);
    for (const row of rows) {
      const input = sharedFile(row.file);
      if (!row.valid) {
        const code = await refusal(input);
        expect(code, row.file).toMatch(row.validText.includes('empty') ? /^E_DMARC_EMPTY$/ : /^E_DMARC_XML$/);
        continue;
      }
      const found = await parseReportInput(input, LIMITS, row.file);
      expect(found.length, row.file).toBe(1);
      const r = found[0].report;
      expect({ org: r.orgName, id: r.reportId, domain: r.policy.domain, records: r.records.length, messages: r.records.reduce((n, x) => n + x.count, 0), begin: r.dateBegin, end: r.dateEnd }, row.file)
        .toEqual({ org: row.reporter.trim(), id: row.reportId, domain: row.domain, records: row.records, messages: row.messages, begin: row.begin, end: row.end });
    }
  });

  it.skipIf(!have)('normalises the quirks: upper-case results, trailing TABs, empty reasons, RFC 9990 fields and namespace', async () => {
    const upper = (await parseReportInput(sharedFile('parsedmarc-report_with_upper_cased_pass.xml'), LIMITS))[0].report;
    expect(upper.records[0]).toMatchObject({ dkim: 'pass' });
    expect(upper.records[0].dkimResults.concat().every((d) => d.result === d.result.toLowerCase())).toBe(true);
    expect(upper.orgName).toBe('example.com');
    const yahoo = (await parseReportInput(sharedFile('cryinc-yahoo.xml'), LIMITS))[0].report;
    expect(yahoo.records[0].sourceIp).not.toMatch(/\s/);
    const empty = (await parseReportInput(sharedFile('parsedmarc-empty_reason.xml'), LIMITS))[0].report;
    expect(empty.records[0].reasons).toEqual([]);
    expect(empty.records[0]).toMatchObject({ envelopeTo: 'example.net', envelopeFrom: 'example.edu' });
    const bis = (await parseReportInput(sharedFile('parsedmarc-rfc9990-example.net_example.com_1700000000_1700086399.xml'), LIMITS))[0].report;
    expect(bis.version).toBe('2.0');
    expect(bis.policy).toMatchObject({ p: 'reject', sp: 'quarantine', np: 'reject', testing: 'y', discoveryMethod: 'treewalk' });
    expect(bis.records[1].reasons).toEqual([{ type: 'other', comment: 'sender not authorized' }]);
    const gmx = (await parseReportInput(sharedFile('cryinc-gmxnet.xml'), LIMITS))[0].report;
    expect(gmx.namespace).toBe('urn:ietf:params:xml:ns:dmarc-2.0');
    expect(gmx.policy.discoveryMethod).toBe('psl');
  });
});

describe('DMARC report parser: hostile and malformed input', () => {
  it('sniffs containers by content, not by name', () => {
    expect(sniff(Buffer.from(reportXml()))).toBe('xml');
    expect(sniff(zlib.gzipSync(reportXml()))).toBe('gzip');
    expect(sniff(zipOf([{ name: 'a.xml', data: Buffer.from(reportXml()) }]))).toBe('zip');
    expect(sniff(Buffer.from('Subject: x\r\n\r\nbody'))).toBe('email');
    expect(sniff(Buffer.from('%PDF-1.4'))).toBe('unknown');
  });

  it('reads gzip with trailing bytes, multi-member gzip, zip, and decodes entities and character references', async () => {
    const xml = reportXml('ent-1').replace('Example Org', 'AT&amp;T &#x263A; &lt;x&gt;');
    const r = await parseReportInput(Buffer.concat([zlib.gzipSync(xml), Buffer.from('\r\n')]), LIMITS);
    expect(r[0].report.orgName).toBe('AT&T \u263a <x>');
    const half = Math.floor(xml.length / 2);
    const multi = Buffer.concat([zlib.gzipSync(xml.slice(0, half)), zlib.gzipSync(xml.slice(half))]);
    expect((await parseReportInput(multi, LIMITS))[0].report.reportId).toBe('ent-1');
    const z = await parseReportInput(zipOf([{ name: 'README.txt', data: Buffer.from('hello') }, { name: 'r.xml', data: Buffer.from(reportXml('zip-1')) }]), LIMITS);
    expect(z.map((x) => x.report.reportId)).toEqual(['zip-1']);
  });

  it('reads a report forwarded as message/rfc822, XML labelled text/plain, and epoch seconds with a decimal part', async () => {
    const inner = Buffer.from('From: noreply@reporter.example\r\nSubject: Report\r\nContent-Type: application/gzip; name="r.xml.gz"\r\n'
      + 'Content-Transfer-Encoding: base64\r\n\r\n' + zlib.gzipSync(reportXml('fwd-1')).toString('base64') + '\r\n');
    const fwd = Buffer.concat([Buffer.from('From: me@shop.example\r\nSubject: Fwd: Report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n'
      + '--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n'), inner, Buffer.from('\r\n--B--\r\n')]);
    expect((await parseReportInput(fwd, LIMITS))[0].report.reportId).toBe('fwd-1');
    const plain = Buffer.from('From: a@reporter.example\r\nSubject: r\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n'
      + '--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n--B\r\nContent-Type: text/plain; name="r.xml"\r\nContent-Disposition: attachment; filename="r.xml"\r\n\r\n'
      + reportXml('plain-1') + '\r\n--B--\r\n');
    expect((await parseReportInput(plain, LIMITS))[0].report.reportId).toBe('plain-1');
    const dec = reportXml('dec-1').replace('<begin>1700000000</begin>', '<begin>1700000000.0</begin>');
    expect((await parseReportInput(Buffer.from(dec), LIMITS))[0].report.dateBegin).toBe(1700000000);
    const swapped = reportXml('swap-1').replace('<begin>1700000000</begin><end>1700086399</end>', '<begin>1700086399</begin><end>1700000000</end>');
    expect((await parseReportInput(Buffer.from('\r\n  ' + swapped), LIMITS))[0].report).toMatchObject({ dateBegin: 1700000000, dateEnd: 1700086399 });
    const latin = reportXml('latin-1').replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>').replace('Example Org', 'Caf\xe9');
    expect((await parseReportInput(Buffer.from(latin, 'latin1'), LIMITS))[0].report.orgName).toBe('Caf\u00e9');
  });

  it('parses a large report in its own thread: the event loop keeps ticking', async () => {
    const one = reportXml('big-1');
    const rec = one.slice(one.indexOf('<record>'), one.lastIndexOf('</record>') + 9);
    const big = Buffer.from(one.replace(rec, rec.repeat(20_000)));
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    let ticks = 0;
    let gap = 0;
    let last = performance.now();
    const timer = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; ticks++; }, 10);
    const r = await parseReportInput(big, LIMITS);
    clearInterval(timer);
    expect(r[0].report.records.length).toBe(20_000);
    expect(ticks).toBeGreaterThan(5);
    expect(gap).toBeLessThan(1000);
    expect(await refusal(big, { ...LIMITS, maxRecords: 1000 })).toBe('E_DMARC_TOO_LARGE');
  });

  it.each([
    ['billion-laughs.xml', 'E_DMARC_DOCTYPE'], ['xxe.xml', 'E_DMARC_DOCTYPE'], ['not-a-report.xml', 'E_DMARC_SCHEMA'],
    ['no-report-id.xml', 'E_DMARC_SCHEMA'], ['bad-count.xml', 'E_DMARC_SCHEMA'],
  ])('refuses %s with %s', async (file, code) => {
    expect(await refusal(own(file))).toBe(code);
    expect(await refusal(zlib.gzipSync(own(file)))).toBe(code);
  });

  it('refuses garbage, truncated and corrupt containers with stable codes', async () => {
    expect(await refusal(Buffer.alloc(0))).toBe('E_DMARC_EMPTY');
    expect(await refusal(Buffer.from('   \n\t'))).toBe('E_DMARC_EMPTY');
    expect(await refusal(Buffer.from('%PDF-1.4 not a report'))).toBe('E_DMARC_FORMAT');
    const gz = zlib.gzipSync(reportXml());
    expect(await refusal(gz.subarray(0, gz.length - 20))).toBe('E_DMARC_ARCHIVE');
    const bad = Buffer.from(gz); bad[bad.length - 6] ^= 0xff;
    expect(await refusal(bad)).toBe('E_DMARC_ARCHIVE');
    const zip = zipOf([{ name: 'r.xml', data: Buffer.from(reportXml()) }]);
    expect(await refusal(zip.subarray(0, zip.length - 30))).toBe('E_DMARC_ARCHIVE');
    expect(await refusal(zipOf([{ name: 'a.txt', data: Buffer.from('just text') }]))).toBe('E_DMARC_NO_REPORT');
    expect(await refusal(zipOf(Array.from({ length: 40 }, (_, i) => ({ name: `${i}.xml`, data: Buffer.from(reportXml(`n${i}`)) }))))).toBe('E_DMARC_ARCHIVE');
    expect(await refusal(Buffer.from('Subject: hi\r\nContent-Type: text/plain\r\n\r\nno attachment\r\n'))).toBe('E_DMARC_NO_REPORT');
    let nested: Buffer = Buffer.from(reportXml());
    for (let i = 0; i < 5; i++) nested = zlib.gzipSync(nested);
    expect(await refusal(nested)).toBe('E_DMARC_FORMAT');
    expect(await refusal(Buffer.from('<feedback><report_metadata><report_id>x</report_id>'))).toBe('E_DMARC_XML');
    expect(await refusal(Buffer.from(reportXml()), { ...LIMITS, maxInputBytes: 100 })).toBe('E_DMARC_TOO_LARGE');
    expect(await refusal(Buffer.from(reportXml()), { ...LIMITS, maxRecords: 0 } as never)).toBe('E_DMARC_TOO_LARGE');
    expect(() => parseAggregateXml(Buffer.from('<'.repeat(10) + '<!doctype x>'), LIMITS)).toThrow(/DOCTYPE/);
  });

  it('refuses a gzip bomb (4 GiB of zeros in 4 MB) quickly, inflating no further than the ceiling', async () => {
    const bomb = gzipBomb(4096);
    expect(bomb.length).toBeLessThan(LIMITS.maxInputBytes);
    const probe = memoryProbe();
    const t0 = performance.now();
    expect(await refusal(bomb)).toBe('E_DMARC_BOMB');
    const ms = performance.now() - t0;
    const { rssGrowth } = probe.stop();
    expect(ms).toBeLessThan(5000);
    // The ceiling is 32 MiB of output; a full inflate would need 4 GiB.
    expect(rssGrowth).toBeLessThan(256 * 1024 * 1024);
  });

  it('refuses by ratio below the absolute cap, and accepts a real report that compresses 100:1', async () => {
    // 3 MiB of spaces in a few KB: ~1000:1, over maxRatio (400) once past 1 MiB, though far under maxXmlBytes.
    const ratioBomb = zlib.gzipSync(Buffer.alloc(3 * 1024 * 1024, 0x20), { level: 9 });
    expect(3 * 1024 * 1024 / ratioBomb.length).toBeGreaterThan(LIMITS.maxRatio);
    expect(await refusal(ratioBomb)).toBe('E_DMARC_BOMB');
    if (!sharedAvailable()) return;
    const large = zlib.gzipSync(sharedFile('parsedmarc-_large-example.com_1711897200_1711983600.xml'), { level: 9 });
    expect((await parseReportInput(large, LIMITS))[0].report.records.length).toBe(2286);
  });

  it('refuses zip bombs: by declared size, and by the streaming ceiling when the header lies', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const honest = zipOf([{ name: 'bomb.xml', data: zeros }]);
    const lying = zipOf([{ name: 'bomb.xml', data: zeros, declared: 1000 }]);
    // Many members that together exceed the ceiling: the budget is shared.
    const many = zipOf(Array.from({ length: 20 }, (_, i) => ({ name: `${i}.xml`, data: Buffer.alloc(4 * 1024 * 1024, 0x20) })));
    const probe = memoryProbe();
    const t0 = performance.now();
    expect(await refusal(honest)).toBe('E_DMARC_BOMB');
    expect(['E_DMARC_BOMB', 'E_DMARC_ARCHIVE']).toContain(await refusal(lying));
    expect(await refusal(many)).toBe('E_DMARC_BOMB');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(probe.stop().rssGrowth).toBeLessThan(256 * 1024 * 1024);
  });

  it('refuses an entity-expansion file inside gzip and zip quickly with bounded memory', async () => {
    const probe = memoryProbe();
    const t0 = performance.now();
    expect(await refusal(zipOf([{ name: 'lol.xml', data: own('billion-laughs.xml') }]))).toBe('E_DMARC_DOCTYPE');
    expect(await refusal(zlib.gzipSync(own('billion-laughs.xml')))).toBe('E_DMARC_DOCTYPE');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(probe.stop().rssGrowth).toBeLessThan(64 * 1024 * 1024);
  });
});
