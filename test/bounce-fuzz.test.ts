import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyReply } from '../src/bounce/classify.js';
import { classifyBounce } from '../src/bounce/classify-bounce.js';
import { addressFromField, parseDsnFields } from '../src/bounce/dsn-fields.js';
import { decodeWords, parseContentType, parseHeaderBlock } from '../src/bounce/mime-headers.js';
import { parseInboundReportStrict, type InboundReport } from '../src/bounce/parse-report.js';
import { decideReason } from '../src/bounce/reasons.js';
import { sesFromText } from '../src/bounce/ses-mail.js';
import { notificationText, scanTextBounce } from '../src/bounce/text-bounce.js';
import { prng } from './helpers/prng.js';

/**
 * Fuzz: every parser gets at least 100,000 generated or mutated inputs from a seeded PRNG
 * (mutations of the real samples and of our corpus: truncation, byte flips, header duplication,
 * huge lines, deep MIME nesting, bad boundaries, bad charsets, splices, random bytes; multi-MB
 * inputs are in the pathological-shapes case, to keep the 100,000 runs inside a minute). None may
 * throw, none may take longer than the per-input ceiling, and every result must be well formed.
 * A failure prints the seed and the iteration so the input can be rebuilt.
 */
const SEED = Number(process.env.BOUNCE_FUZZ_SEED ?? 20261123);
const N = Number(process.env.BOUNCE_FUZZ_N ?? 100_000);
// Per input: 1 s of CPU (a hang or catastrophic backtracking burns CPU), and 10 s of wall time so
// that a machine shared with other test runs cannot fail the test by scheduling alone.
const CEILING_MS = 1000;
const WALL_CEILING_MS = 10_000;


const ROOT = resolve(import.meta.dirname, '..');
const DIRS = ['../shared/fixtures/bounces', '../shared/fixtures/arf', 'test/fixtures/bounces'].map((d) => resolve(ROOT, d));
const SEEDS: Buffer[] = DIRS.filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.eml')).map((f) => readFileSync(resolve(d, f))));
if (SEEDS.length < 40 && process.env.CI === 'true') throw new Error('bounce fuzz: fixtures missing');
// Without the shared fixtures the fuzz still runs on a small built-in seed set.
if (!SEEDS.length) SEEDS.push(Buffer.from('From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n\nx@y.example: 550 5.1.1 unknown\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 5.1.1\n--b--\n'));

const SEED_TEXT = SEEDS.map((b) => b.toString('latin1'));
const CHARSETS = ['x-unknown', 'utf-7', 'iso-2022-jp', '"', 'shift_jis', 'utf-16', '\u0000', 'a'.repeat(300), 'gb18030', ''];
const JUNK = ['=?', '?=', '@', '<', '>', '--', ';', ':', '\n', '\r\n', ' ', '\t', '=\n', '"', '\\', '\u00ff', 'Final-Recipient: rfc822; ', 'Status: 5.', 'boundary="', '{"notificationType":"Bounce",'];

type Mutator = (b: string, r: () => number) => string;
const pick = <T>(r: () => number, a: T[]): T => a[Math.floor(r() * a.length)];
const int = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATORS: Mutator[] = [
  (b, r) => b.slice(0, int(r, b.length + 1)),
  (b, r) => { const a = b.split(''); for (let k = 0, n = 1 + int(r, 20); k < n && a.length; k++) a[int(r, a.length)] = String.fromCharCode(int(r, 256)); return a.join(''); },
  (b, r) => { const lines = b.split('\n'); const i = int(r, Math.min(lines.length, 40)); lines.splice(i, 0, ...Array(1 + int(r, 200)).fill(lines[i] ?? 'X-Dup: 1')); return lines.join('\n'); },
  (b, r) => { const at = int(r, b.length); return b.slice(0, at) + pick(r, ['a', '=', '@', ' ', '<', 'x@', '=?', '5.1.1 ', '-']).repeat(500 + int(r, 20_000)) + b.slice(at); },
  (b, r) => { let s = b; for (let k = 0, n = 1 + int(r, 40); k < n; k++) s = `Content-Type: multipart/mixed; boundary="n${k}"\n\n--n${k}\n${s}\n--n${k}--\n`; return s; },
  (b, r) => b.replace(/boundary="?[^";\s]*"?/gi, () => pick(r, ['boundary=', 'boundary=""', 'boundary="--"', 'boundary="a"', `boundary="${'z'.repeat(int(r, 200))}"`, 'boundary="\n"'])),
  (b, r) => b.replace(/charset="?[^";\s]*"?/gi, () => `charset=${pick(r, CHARSETS)}`).replace(/^(Subject: )/m, `$1=?${pick(r, CHARSETS)}?${pick(r, ['B', 'Q', 'x'])}?${'\u00ff=A'.repeat(int(r, 50))}?= `),
  (b, r) => { const o = pick(r, SEED_TEXT); return b.slice(0, int(r, b.length)) + o.slice(int(r, o.length)); },
  (b, r) => b.split('\n').filter(() => r() > 0.2).join('\n'),
  (b, r) => (r() < 0.5 ? b.replace(/\r?\n/g, '\r\n') : b.replace(/\r?\n/g, '\r')),
  (b, r) => { let s = b; for (let k = 0, n = 1 + int(r, 30); k < n; k++) { const at = int(r, s.length); s = s.slice(0, at) + pick(r, JUNK) + s.slice(at); } return s; },
  (b, r) => b.replace(/Content-Transfer-Encoding: [^\n]*/gi, () => `Content-Transfer-Encoding: ${pick(r, ['base64', 'quoted-printable', 'x-uue', '8bit'])}`),
];

function generated(r: () => number): string {
  const n = int(r, 4000);
  let s = '';
  for (let k = 0; k < n; k++) s += r() < 0.3 ? pick(r, JUNK) : String.fromCharCode(int(r, 256));
  return s;
}

function input(r: () => number): Buffer {
  if (r() < 0.05) return Buffer.from(generated(r), 'latin1');
  let s = pick(r, SEED_TEXT);
  for (let k = 0, n = 1 + int(r, 3); k < n; k++) s = pick(r, MUTATORS)(s, r);
  return Buffer.from(s.slice(0, 3_000_000), 'latin1');
}

const KINDS = new Set(['dsn', 'arf', 'autoreply', 'unknown']);
const CLASSES = new Set(['delivered', 'hard_bounce', 'soft_bounce', 'mailbox_full', 'sender_config', 'policy', 'rate_limited', 'content', 'network', 'unknown']);

function wellFormed(r: InboundReport): void {
  if (!KINDS.has(r.kind)) throw new Error(`bad kind ${r.kind}`);
  if (r.kind === 'dsn') {
    for (const x of r.recipients) {
      if (!CLASSES.has(x.classification.class)) throw new Error(`bad class ${x.classification.class}`);
      if (x.classification.suppress && !x.classification.permanent) throw new Error('suppress without a permanent failure');
      if (x.status !== null && !/^[245]\.\d{1,3}\.\d{1,3}$/.test(x.status)) throw new Error(`bad status ${x.status}`);
    }
  }
  if (r.kind === 'arf' && !Array.isArray(r.recipients)) throw new Error('arf without recipients array');
}

/** Runs `fn` over `n` inputs, failing on a throw or on an input slower than the ceiling. */
function run<T>(n: number, seed: number, make: (r: () => number) => T, fn: (x: T) => void): { max: number; total: number; inParser: number } {
  const r = prng(seed);
  let max = 0;
  let inParser = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const x = make(r);
    const t = performance.now();
    const c = process.cpuUsage();
    try {
      fn(x);
    } catch (e) {
      throw new Error(`seed ${seed} iteration ${i}: ${(e as Error).stack}`);
    }
    const cpu = process.cpuUsage(c);
    const dt = (cpu.user + cpu.system) / 1000;
    const wall = performance.now() - t;
    inParser += wall;
    if (dt > max) max = dt;
    if (dt > CEILING_MS || wall > WALL_CEILING_MS) throw new Error(`seed ${seed} iteration ${i}: ${dt.toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall`);
  }
  return { max, total: performance.now() - t0, inParser };
}

describe('bounce parsers under fuzzing (no crash, no hang)', () => {
  it(`parseInboundReport: ${N} mutated and generated messages`, () => {
    const { max, total, inParser } = run(N, SEED, input, (b) => wellFormed(parseInboundReportStrict(b)));
    console.log(`parseInboundReport fuzz: ${N} inputs in ${(total / 1000).toFixed(1)} s (${(inParser / 1000).toFixed(1)} s parsing), slowest ${max.toFixed(1)} ms CPU (ceiling ${CEILING_MS} ms)`);
    expect(max).toBeLessThan(CEILING_MS);
  }, 600_000);

  it(`field-level parsers: ${N} inputs each`, () => {
    const piece = (r: () => number) => {
      const s = pick(r, SEED_TEXT);
      const at = int(r, s.length);
      let t = s.slice(at, at + int(r, 600));
      if (r() < 0.5) t = MUTATORS[int(r, MUTATORS.length)](t, r).slice(0, 4000);
      return t;
    };
    const stats = [
      run(N, SEED + 1, piece, (t) => { parseDsnFields(t); parseHeaderBlock(t); }),
      run(N, SEED + 2, piece, (t) => { parseContentType(t); decodeWords(t); addressFromField(t); }),
      run(N, SEED + 3, piece, (t) => { scanTextBounce(notificationText(t), new Set()); sesFromText('{"notificationType"' + t); }),
      run(N, SEED + 4, piece, (t) => {
        const code = /[245]\d\d/.exec(t)?.[0];
        classifyReply(code ? Number(code) : null, null, t);
        decideReason({ status: null, text: t, action: 'failed' });
        const c = classifyBounce({ status: t.slice(0, 12), replyCode: null, text: t, action: 'failed', remoteMta: null });
        if (!CLASSES.has(c.classification.class)) throw new Error('bad class');
      }),
    ];
    const max = Math.max(...stats.map((s) => s.max));
    console.log(`field-level fuzz: 4 x ${N} inputs in ${(stats.reduce((a, s) => a + s.total, 0) / 1000).toFixed(1)} s, slowest ${max.toFixed(1)} ms CPU`);
    expect(max).toBeLessThan(CEILING_MS);
  }, 600_000);

  it('survives the classic pathological shapes', () => {
    const shapes = [
      'Subject: x\n\n' + 'a'.repeat(3_000_000),
      'From: MAILER-DAEMON\nSubject: Undelivered\n\n' + 'a@b '.repeat(500_000),
      'From: postmaster\nSubject: failure notice\n\n' + ('x'.repeat(63) + '@').repeat(20_000),
      'Content-Type: multipart/mixed; boundary=x\n\n' + '--x\nContent-Type: multipart/mixed; boundary=x\n\n'.repeat(5000),
      'Content-Type: message/rfc822\n\n'.repeat(5000),
      'Subject: ' + '=?utf-8?B?'.repeat(5000) + '\n\n',
      'Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n' + 'Final-Recipient: rfc822; a@b.c\nAction: failed\n'.repeat(50_000),
      'Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\n' + 'Original-Rcpt-To: a@b.c\n'.repeat(50_000),
      '{"notificationType":"Bounce","bounce":{"bouncedRecipients":[' + '{"emailAddress":"a@b.c"},'.repeat(10_000) + '{}]}}',
      ' \n'.repeat(1_000_000),
    ];
    for (const s of shapes) {
      const c = process.cpuUsage();
      wellFormed(parseInboundReportStrict(Buffer.from(s, 'latin1')));
      const cpu = process.cpuUsage(c);
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(CEILING_MS);
    }
  });
});
