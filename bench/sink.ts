import { SMTPServer } from 'smtp-server';

/** A loopback smtp-server that counts accepted messages and discards their bytes. */
export async function countingSink(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = new SMTPServer({
    secure: false, hideSTARTTLS: true, authOptional: true, disabledCommands: ['AUTH'], logger: false, size: 50 * 1024 * 1024,
    onData(stream, _s, cb) {
      stream.on('data', () => {});
      stream.on('end', () => { n++; cb(); });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.server.address() as { port: number }).port, count: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

/** Runs the counting sink in a child process so it does not share the measured event loop. */
export async function childSink(): Promise<{ port: number; count: () => Promise<number>; close: () => Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./sink-main.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { lines.push(...d.trim().split('\n')); wake?.(); });
  const next = async () => { while (!lines.length) await new Promise<void>((r) => (wake = r)); return lines.shift()!; };
  const port = Number(await next());
  return {
    port,
    async count() { child.stdin!.write('count\n'); return Number(await next()); },
    async close() { child.stdin!.end(); child.kill('SIGKILL'); },
  };
}
