/**
 * Child-process SMTP sink for bench/scale and bench/run-all: counts messages per recipient so
 * duplicates can be counted, discards the bytes. Prints its port, then answers each stdin line
 * with one JSON line `{ received, distinct, duplicates }` ("reset" clears the counts first).
 */
import { createInterface } from 'node:readline';
import { SMTPServer } from 'smtp-server';

const perRcpt = new Map<string, number>();
let received = 0;
const server = new SMTPServer({
  secure: false, hideSTARTTLS: true, authOptional: true, disabledCommands: ['AUTH'], logger: false, size: 50 * 1024 * 1024,
  onData(stream, session, cb) {
    stream.on('data', () => {});
    stream.on('end', () => {
      received++;
      for (const r of session.envelope.rcptTo) perRcpt.set(r.address, (perRcpt.get(r.address) ?? 0) + 1);
      cb();
    });
  },
});
server.on('error', () => {});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
process.stdout.write(`${(server.server.address() as { port: number }).port}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'reset') { perRcpt.clear(); received = 0; }
  let duplicates = 0;
  for (const n of perRcpt.values()) duplicates += n - 1;
  process.stdout.write(JSON.stringify({ received, distinct: perRcpt.size, duplicates }) + '\n');
});
