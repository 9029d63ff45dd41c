import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/defaults.js';
import { isTegamiError } from '../src/domain/errors.js';
import { parseReportInput } from '../src/dmarc/parse-input.js';
import { parseAggregateXml } from '../src/dmarc/parse-xml.js';
import type { ParsedReport } from '../src/dmarc/report-types.js';
import { OWN_DMARC, SHARED_DMARC, sharedAvailable } from './fixtures/dmarc/manifest.js';
import { prng } from './helpers/prng.js';

const N = Number(process.env.DMARC_FUZZ_N ?? 100_000);
const LIMITS = defaultConfig().dmarc;


const TOKENS = [
  '<!DOCTYPE feedback>', '<!ENTITY x "y">', '<record>', '</record>', '<row>', '</row>', '<count>', '</count>', '<feedback>', '</feedback>',
  '99999999999999999999', '-1', '1e9', '&amp;', '&#x0;', '&#xD800;', '&#1114112;', '&unknown;', ']]>', '<![CDATA[', '<?xml version="1.0"?>',
  '<', '>', '/>', '"', "'", '=', '\0', '\uFFFF', '\uD800', 'xmlns:a="b"', '<a:b>', '</a:b>', '<__proto__>', '</__proto__>', '<constructor>x</constructor>',
  '<source_ip>::1</source_ip>', '<report_id></report_id>', '<date_range><begin>5</begin><end>1</end></date_range>', '\r\n', '\t', ' '.repeat(64),
];

const VALUES = ['', '-1', '0', '1e3', 'PASS', 'None', ' ', 'x'.repeat(300), '999999999999999999', '18446744073709551616', '::ffff:192.0.2.1', '&amp;', '&lt;&gt;', '\u00e9\u4e2d\ud83d\ude00', 'example.com.', 'a'.repeat(2000)];

/** Replaces the text of a few elements: keeps the XML well-formed, so the report layer is what gets exercised. */
function mutateValues(src: Buffer, rnd: () => number): Buffer {
  const s = src.toString('utf8');
  const spans = [...s.matchAll(/>([^<>]*)</g)];
  if (!spans.length) return src;
  let out = s;
  for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) {
    const m = spans[Math.floor(rnd() * spans.length)];
    const v = VALUES[Math.floor(rnd() * VALUES.length)];
    const at = m.index! + 1;
    out = out.length === s.length ? out.slice(0, at) + v + out.slice(at + m[1].length) : out.replace(`>${m[1]}<`, `>${v}<`);
  }
  return Buffer.from(out);
}

/** One mutation of `src`: bit flips, deletions, insertions, duplications, tokens, truncation, deep nesting. */
function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const at = () => Math.floor(rnd() * (b.length + 1));
  const ops = 1 + Math.floor(rnd() * 4);
  let out: Buffer = b;
  for (let k = 0; k < ops; k++) {
    const i = Math.floor(rnd() * (out.length + 1));
    const len = Math.floor(rnd() * Math.min(64, out.length + 1));
    switch (Math.floor(rnd() * 8)) {
      case 0: { if (out.length) { const j = Math.min(i, out.length - 1); out[j] ^= 1 << Math.floor(rnd() * 8); } break; }
      case 1: out = Buffer.concat([out.subarray(0, i), out.subarray(i + len)]); break;
      case 2: out = Buffer.concat([out.subarray(0, i), Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256))), out.subarray(i)]); break;
      case 3: out = Buffer.concat([out.subarray(0, i), out.subarray(i, i + len), out.subarray(i)]); break;
      case 4: out = Buffer.concat([out.subarray(0, i), Buffer.from(TOKENS[Math.floor(rnd() * TOKENS.length)]), out.subarray(i)]); break;
      case 5: out = out.subarray(0, i); break;
      case 6: { const depth = 1 + Math.floor(rnd() * 3000); out = Buffer.concat([out.subarray(0, i), Buffer.from('<a>'.repeat(depth) + '</a>'.repeat(rnd() < 0.5 ? depth : 0)), out.subarray(i)]); break; }
      default: { const j = at(); out = Buffer.concat([out.subarray(0, Math.min(i, j)), out.subarray(Math.max(i, j)), out.subarray(Math.min(i, j), Math.max(i, j))]); }
    }
  }
  return out;
}

/** A parse either refuses with an E_DMARC_* code or returns a report that holds its invariants. */
function check(r: ParsedReport) {
  if (!r.reportId || !r.policy.domain || !Array.isArray(r.records)) throw new Error('report without id, domain or records');
  for (const x of r.records) if (!Number.isSafeInteger(x.count) || x.count < 0 || !x.sourceIp) throw new Error('bad record');
}

function seeds(): Buffer[] {
  const own = readdirSync(OWN_DMARC).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(join(OWN_DMARC, f)));
  if (!sharedAvailable()) return own;
  const shared = readdirSync(SHARED_DMARC).filter((f) => /\.xml$/.test(f)).map((f) => readFileSync(join(SHARED_DMARC, f))).filter((b) => b.length < 5_000);
  return [...shared, ...own];
}

describe('DMARC parser under 100,000 mutated inputs (issue 9)', () => {
  it(`survives ${N} mutations: every input parses to a sound report or is refused with an E_DMARC_* code, none slow`, async () => {
    const pool = seeds();
    const emails = sharedAvailable() ? readdirSync(SHARED_DMARC).filter((f) => /\.(eml|zip|gz)$/.test(f)).map((f) => readFileSync(join(SHARED_DMARC, f))) : [];
    const containers = [...pool.slice(0, 6).map((x) => zlib.gzipSync(x)), ...emails];
    const rnd = prng(0x7e9a11);
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    let slowest = 0;
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      // 1 in 50 goes through the async path (sniffing, gzip, e-mail); the rest straight to the XML parser.
      const viaInput = i % 50 === 0;
      const seed = pool[Math.floor(rnd() * pool.length)];
      const input = viaInput && rnd() < 0.5 ? mutate(containers[Math.floor(rnd() * containers.length)], rnd)
        : rnd() < 0.3 ? mutateValues(seed, rnd) : mutate(seed, rnd);
      try {
        check(viaInput ? (await parseReportInput(input, LIMITS, `m${i}`))[0]?.report ?? (() => { throw new Error('no report and no error'); })() : parseAggregateXml(input, LIMITS));
        outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (isTegamiError(e) && e.code.startsWith('E_DMARC_')) outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
        else if (failures.length < 5) failures.push(`#${i}: ${String((e as Error)?.stack ?? e).slice(0, 300)}\ninput: ${JSON.stringify(input.toString('latin1').slice(0, 200))}`);
        else failures.push('');
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    const wall = performance.now() - started;
    console.log(`[dmarc fuzz] ${N} inputs in ${(wall / 1000).toFixed(1)} s, slowest ${slowest.toFixed(1)} ms, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(failures.filter(Boolean), failures.join('\n\n')).toEqual([]);
    expect(failures.length).toBe(0);
    // Both kinds of outcome occur, so the mutations really reach the parser's paths.
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(N / 100);
    expect(outcomes.get('E_DMARC_XML') ?? 0).toBeGreaterThan(N / 100);
    expect(slowest).toBeLessThan(2000);
    // A hang detector, generous for a loaded machine: alone this runs in ~10-20 s.
    expect(wall).toBeLessThan(150_000);
  }, 300_000);
});
