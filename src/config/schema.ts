import { Type, type Static } from '@sinclair/typebox';

/** The one configuration schema; every field has a default (see defaults.ts). */
export const ConfigSchema = Type.Object({
  dataDir: Type.String(),
  database: Type.Object({
    /** `sqlite:PATH` or `postgres://…` */
    url: Type.String(),
    poolSize: Type.Integer({ minimum: 1, maximum: 200 }),
  }),
  masterKeyFile: Type.String(),
  /** Base64 32-byte master key; overrides masterKeyFile when set (e.g. from a secret store). */
  masterKey: Type.String(),
  http: Type.Object({
    host: Type.String(),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Public base URL of the API and console, e.g. https://mail.example.com */
    publicUrl: Type.String(),
    /** Default public base URL for unsubscribe links; a domain may set its own host. */
    unsubscribeUrl: Type.String(),
    bodyLimitBytes: Type.Integer({ minimum: 1024 }),
  }),
  smtp: Type.Object({
    host: Type.String(),
    /** Submission (relay) port, 0 = disabled. */
    submissionPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Inbound MX port for bounces, mailto unsubscribes, ARF and DMARC reports; 0 = disabled. */
    inboundPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Host name announced in greetings and used as EHLO name (R-INFRA-2). */
    hostname: Type.String(),
    maxMessageBytes: Type.Integer({ minimum: 1024 }),
  }),
  transport: Type.Object({
    kind: Type.Union([Type.Literal('capture'), Type.Literal('smtp'), Type.Literal('mx')]),
    smtp: Type.Object({
      host: Type.String(),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
      user: Type.String(),
      pass: Type.String(),
      /** STARTTLS is required unless explicitly disabled. */
      requireTls: Type.Boolean(),
      /** Implicit TLS (port 465). */
      secure: Type.Boolean(),
      maxConnections: Type.Integer({ minimum: 1, maximum: 500 }),
      rejectUnauthorized: Type.Boolean(),
    }),
    mx: Type.Object({
      ehloName: Type.String(),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
    }),
    timeoutMs: Type.Integer({ minimum: 1000 }),
  }),
  worker: Type.Object({
    batchSize: Type.Integer({ minimum: 1, maximum: 5000 }),
    leaseSeconds: Type.Integer({ minimum: 5 }),
    concurrency: Type.Integer({ minimum: 1, maximum: 500 }),
    pollMs: Type.Integer({ minimum: 10 }),
    /** Worker threads that render and DKIM-sign (0 = in the main thread). */
    renderThreads: Type.Integer({ minimum: 0, maximum: 64 }),
    /** Give up retrying 4xx after this many hours (R-BNC-3: at least 4-5 days). */
    retryHours: Type.Integer({ minimum: 1 }),
  }),
  limits: Type.Object({
    attachmentBytes: Type.Integer({ minimum: 1024 }),
    messageBytes: Type.Integer({ minimum: 1024 }),
  }),
  dns: Type.Object({
    /** SPF include of the platform's sending IPs (an ip4/ip6-only record costs 1 lookup, R-AUTH-11). */
    spfInclude: Type.String(),
    /** Comma-separated sending IPs for the SPF suggestion. */
    sendingIps: Type.String(),
  }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  }),
});

/** The effective configuration. */
export type Config = Static<typeof ConfigSchema>;
