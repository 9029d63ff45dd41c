import { availableParallelism } from 'node:os';
import type { Config } from './schema.js';

/**
 * Render threads: one per core but one, at most 4, at least 1. The worker's main thread (claims,
 * checks, SMTP, the attempt log) keeps a core of its own; on two cores a second render thread
 * only competes with it for the same CPU and costs ~20-45 MB (bench/send).
 */
export function defaultRenderThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

/** Defaults: SQLite under ./data, capture transport, everything on loopback. */
export function defaultConfig(): Config {
  return {
    dataDir: './data',
    database: { url: 'sqlite:./data/tegami.db', poolSize: 10, sqliteCacheMb: 0 },
    masterKeyFile: './data/master.key',
    masterKey: '',
    http: {
      host: '127.0.0.1',
      port: 8025,
      publicUrl: 'http://localhost:8025',
      unsubscribeUrl: '',
      bodyLimitBytes: 30 * 1024 * 1024,
      trustProxy: 'loopback',
    },
    smtp: { host: '127.0.0.1', submissionPort: 0, inboundPort: 0, hostname: 'localhost', maxMessageBytes: 25 * 1024 * 1024 },
    transport: {
      kind: 'capture',
      smtp: { host: '', port: 587, user: '', pass: '', requireTls: true, secure: false, maxConnections: 10, rejectUnauthorized: true },
      mx: { ehloName: '', port: 25 },
      timeoutMs: 60_000,
    },
    worker: { batchSize: 200, leaseSeconds: 120, concurrency: 20, lanes: 2, metricsPort: 0, metricsHost: '127.0.0.1', pollMs: 250, retryHours: 120, renderThreads: defaultRenderThreads(), mainThreadRenders: 'auto', heapGrowingPercent: 20 },
    limits: { attachmentBytes: 10 * 1024 * 1024, messageBytes: 25 * 1024 * 1024 },
    dns: { spfInclude: '', sendingIps: '' },
    console: { sessionHours: 12, loginMaxFailures: 10, loginWindowMinutes: 15 },
    dmarc: { maxInputBytes: 10 * 1024 * 1024, maxXmlBytes: 32 * 1024 * 1024, maxRatio: 400, maxRecords: 200_000, ptrTimeoutMs: 2000, policyMinDays: 14, policyMinAlignedShare: 0.98 },
    relay: { implicitTlsPort: 0, tlsCertFile: '', tlsKeyFile: '', maxMessageBytes: 25 * 1024 * 1024, maxRecipients: 100, ratePerMinute: 6000, ccGuard: 'warn', keepHours: 24 },
    bounces: { softBounceLimit: 5, fblLocalPart: 'fbl', acceptRoleAddresses: true },
    compliance: {
      spamRateWarn: 0.001, spamRatePause: 0.003, spamRateMinDelivered: 1000, bulkThreshold: 5000, bulkAlertAt: 4500,
      warmupStartPerDay: 50, warmupTargetPerDay: 1000, warmupDays: 10, hourlyCaps: { gmail: 2000, yahoo: 2000, outlook: 2000, icloud: 2000 },
      recheckMinutes: 1440,
    },
    webhooks: {
      enabled: true, allowLocalHttp: false, pollMs: 1000, batchSize: 200, concurrency: 10, timeoutMs: 10_000, leaseSeconds: 60,
      retryHours: 24, disableAfterHours: 24, rotationGraceHours: 24, gapGraceSeconds: 120, maxEndpointsPerAccount: 20, logRetentionDays: 30,
    },
    log: { level: 'info' },
  };
}
