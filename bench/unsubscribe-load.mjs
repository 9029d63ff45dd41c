// Load generator for bench/unsubscribe.ts in a process of its own, so its CPU, event loop and GC
// pauses are not the server's: reads {url, pathsFile, seconds, connections, rate, body, headers}
// as JSON from argv[2], runs autocannon on its main thread, prints the summary as one JSON line.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const o = JSON.parse(process.argv[2]);
const paths = readFileSync(o.pathsFile, 'utf8').split('\n');
let i = 0;
const r = await autocannon({
  url: o.url, duration: o.seconds, connections: o.connections, overallRate: o.rate, method: 'POST', body: o.body, headers: o.headers,
  // Every request a new recipient until the list wraps.
  requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
});
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({
  rps: r.requests.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max,
  errors: r.errors + r.non2xx, total: r.requests.total, loadgenCpuS: (cpu.user + cpu.system) / 1e6,
  // Requests sent after the list wrapped: replays, which commit nothing new.
  replayed: Math.max(0, i - paths.length),
}) + '\n');
