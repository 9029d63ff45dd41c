/**
 * Child-process baseline for bench/load-relay: a bare smtp-server with the same certificate,
 * STARTTLS required before AUTH PLAIN/LOGIN (any password), that discards each message after
 * reading it. Prints its port; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';

const [certFile, keyFile] = process.argv.slice(2);
const server = new SMTPServer({
  secure: false, key: readFileSync(keyFile), cert: readFileSync(certFile), logger: false, size: 25 * 1024 * 1024,
  authMethods: ['PLAIN', 'LOGIN'], allowInsecureAuth: false, maxClients: 10_000,
  onAuth(auth, _s, cb) { cb(null, { user: auth.username }); },
  onData(stream, _s, cb) {
    stream.on('data', () => {});
    stream.on('end', () => cb(null, 'queued'));
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
