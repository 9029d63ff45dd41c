// Open-loop load at a fixed rate for bench/unsubscribe.ts and bench/load-unsubscribe.ts, in a
// process of its own. Reads {url, pathsFile, seconds, rate, connections, body, headers} as JSON
// from argv[2]; prints one JSON line.
//
// Why not autocannon for this part: its `overallRate` gives each connection rate/connections
// requests a second, sent back to back as soon as each second's counter resets, so "1,000 req/s
// over 20 connections" is a burst of 20 closed loops at the start of every second and an idle
// rest; and its coordinated-omission correction uses an expected interval of ceil(1 / rate) =
// 1 ms for any rate above 1/s, so every response of L ms also records L - 1 synthetic samples of
// L - 1, L - 2, … ms (autocannon 7, lib/run.js). Here request k is due at start + k / rate, the
// requests go out on a keep-alive pool of `connections` sockets (node:http), and each latency is
// measured twice: from the moment the request was written (`sent`: the server and the network)
// and from the moment it was due (`due`: also any wait for a socket or for this process's own
// event loop, the coordinated-omission-free figure).
import { readFileSync } from 'node:fs';
import http from 'node:http';

const o = JSON.parse(process.argv[2]);
const paths = readFileSync(o.pathsFile, 'utf8').split('\n').filter(Boolean);
const target = new URL(o.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
const body = Buffer.from(o.body ?? '');
const headers = { ...(o.headers ?? {}), 'content-length': String(body.length) };
const total = Math.round(o.rate * o.seconds);
const fromSent = new Float64Array(total);
const fromDue = new Float64Array(total);
let done = 0;
let errors = 0;
let issued = 0;

function fire(k, dueAt) {
  const req = http.request({ host: target.hostname, port: target.port, method: 'POST', path: paths[k % paths.length], headers, agent });
  let sentAt = 0;
  req.on('socket', (s) => {
    const mark = () => { sentAt = performance.now(); };
    if (s.connecting) s.once('connect', mark); else mark();
  });
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => {
      const now = performance.now();
      if (res.statusCode < 200 || res.statusCode >= 300) errors++;
      fromSent[k] = now - (sentAt || dueAt);
      fromDue[k] = now - dueAt;
      done++;
    });
  });
  req.on('error', () => { errors++; fromSent[k] = NaN; fromDue[k] = NaN; done++; });
  req.end(body);
}

const start = performance.now() + 50;
await new Promise((resolve) => {
  const tick = () => {
    const now = performance.now();
    while (issued < total && start + (issued * 1000) / o.rate <= now) {
      fire(issued, start + (issued * 1000) / o.rate);
      issued++;
    }
    if (issued < total) setTimeout(tick, Math.max(0, Math.min(1, start + (issued * 1000) / o.rate - performance.now())));
    else resolve();
  };
  setTimeout(tick, 50);
});
const deadline = performance.now() + 30_000;
while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
agent.destroy();
const pct = (a, q) => {
  const s = Array.from(a).filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const elapsed = (performance.now() - start) / 1000;
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({
  rps: done / elapsed, total: done, errors: errors + (total - done),
  p50: pct(fromSent, 0.5), p90: pct(fromSent, 0.9), p99: pct(fromSent, 0.99), max: pct(fromSent, 1),
  due: { p50: pct(fromDue, 0.5), p99: pct(fromDue, 0.99), max: pct(fromDue, 1) },
  loadgenCpuS: (cpu.user + cpu.system) / 1e6,
}) + '\n');
