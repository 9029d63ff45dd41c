import { availableParallelism } from 'node:os';
import type { Config } from './schema.js';

/** Defaults: SQLite under ./data, capture transport, everything on loopback. */
export function defaultConfig(): Config {
  return {
    dataDir: './data',
    database: { url: 'sqlite:./data/tegami.db', poolSize: 10 },
    masterKeyFile: './data/master.key',
    masterKey: '',
    http: {
      host: '127.0.0.1',
      port: 8025,
      publicUrl: 'http://localhost:8025',
      unsubscribeUrl: '',
      bodyLimitBytes: 30 * 1024 * 1024,
    },
    smtp: { host: '127.0.0.1', submissionPort: 0, inboundPort: 0, hostname: 'localhost', maxMessageBytes: 25 * 1024 * 1024 },
    transport: {
      kind: 'capture',
      smtp: { host: '', port: 587, user: '', pass: '', requireTls: true, secure: false, maxConnections: 10, rejectUnauthorized: true },
      mx: { ehloName: '', port: 25 },
      timeoutMs: 60_000,
    },
    worker: { batchSize: 200, leaseSeconds: 120, concurrency: 20, pollMs: 250, retryHours: 120, renderThreads: Math.min(4, availableParallelism()) },
    limits: { attachmentBytes: 10 * 1024 * 1024, messageBytes: 25 * 1024 * 1024 },
    dns: { spfInclude: '', sendingIps: '' },
    log: { level: 'info' },
  };
}
