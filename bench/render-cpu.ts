/**
 * bench/render-cpu: CPU time one thread spends per rendered, composed and dual-signed copy
 * (renderForRecipient: liquid, compose template, RSA-SHA256 + Ed25519-SHA256 DKIM) for the
 * bench/send campaign (3 KB HTML, list, Feedback-ID, one-click unsubscribe), measured with
 * process.cpuUsage over N copies per round. With `--baseline DIR` (a copy of an older src/, e.g.
 * `cp -r src /tmp/oldsrc/ && ln -s $PWD/node_modules /tmp/oldsrc/`) the older renderForRecipient
 * runs in the same process, interleaved round by round, and the table compares the two.
 * Also reports the share of the two crypto.sign calls alone (the floor).
 * Run: flock /tmp/bench.lock npx tsx bench/render-cpu.ts [--copies N (per round, 400)] [--rounds N (24)] [--baseline DIR]...
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { renderForRecipient, type RenderSpec } from '../src/render/render-message.js';
import { arg, printTable, writeResult } from './lib.js';

const COPIES = arg('copies', 400);
const ROUNDS = arg('rounds', 24);
// Each --baseline DIR (repeatable) is a side of its own, in the order given.
const BASELINES = process.argv.flatMap((a, i) => (a === '--baseline' ? [process.argv[i + 1]] : []));

const HTML = `<html><body><h1>Hello {{ first }}</h1>${'<p>Our November newsletter with product news, events and offers for you. '.repeat(40)}</p>`
  + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;

const spec = (i: number): RenderSpec => ({
  cacheKey: 'campaign:bench',
  content: {
    kind: 'api', from: { name: 'News', address: 'news@bench.example' }, replyTo: null, to: [], cc: [], subject: 'News for {{ first }}',
    html: HTML, text: null, data: {}, attachments: [], headers: {}, category: 'subscription', listId: 'l1',
  },
  recipient: { address: `u${i}@rcpt${i % 50}.example`, attributes: { first: `Name${i}` } },
  messageId: `<01JBENCH${String(i).padStart(8, '0')}.a1@mail.bench.example>`, date: new Date(1_764_000_000_000 + i * 1000),
  list: { name: 'all', label: 'l1', namespace: 'bench.example' },
  unsubscribe: {
    url: `https://mail.bench.example/u/tok${i}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, mailto: `mailto:u${i}xxxxxxxxxxxx@b.bench.example?subject=unsubscribe`,
    preferencesUrl: `https://mail.bench.example/u/tok${i}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/preferences`,
  },
  feedbackId: 'c1:a1:subscription:tegami',
  keys: { domain: 'bench.example', rsa: { selector: 'r1', privateKey: rsa }, ed25519: { selector: 'e1', privateKey: ed } },
});

type Render = (s: RenderSpec) => Promise<Buffer>;
const sides: Array<{ name: string; render: Render }> = [{ name: 'current', render: renderForRecipient }];
for (const dir of [...BASELINES].reverse()) {
  const mod = await import(pathToFileURL(`${dir}/src/render/render-message.ts`).href) as { renderForRecipient: Render };
  sides.unshift({ name: dir, render: mod.renderForRecipient });
}

const specs = Array.from({ length: COPIES }, (_, i) => spec(i));
async function round(render: Render): Promise<number> {
  const t0 = process.cpuUsage();
  for (const s of specs) await render(s);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / COPIES;
}
function signsOnly(): number {
  const data = Buffer.alloc(700, 0x61);
  const t0 = process.cpuUsage();
  for (let i = 0; i < COPIES; i++) {
    sign('sha256', data, rsa);
    sign(null, createHash('sha256').update(data).digest(), ed);
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / COPIES;
}

// Warm-up: JIT, parse caches, templates.
for (const s of sides) for (let i = 0; i < 300; i++) await s.render(specs[i % COPIES]);
const results: Record<string, number[]> = Object.fromEntries([...sides.map((s) => [s.name, []]), ['signs', []]]);
for (let r = 0; r < ROUNDS; r++) {
  for (const s of (r % 2 ? [...sides].reverse() : sides)) results[s.name].push(await round(s.render));
  results.signs.push(signsOnly());
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rows = Object.entries(results).map(([name, v]) => ({
  side: name === 'signs' ? 'two crypto.sign only' : name, 'µs/copy median': median(v).toFixed(0), min: Math.min(...v).toFixed(0), max: Math.max(...v).toFixed(0),
  rounds: v.map((x) => x.toFixed(0)).join(' '),
}));
printTable(rows);
writeResult('render-cpu', { copies: COPIES, rounds: ROUNDS, baselines: BASELINES, usPerCopy: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { median: median(v), rounds: v }])) });
