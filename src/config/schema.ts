import { Type, type Static } from '@sinclair/typebox';

/** The one configuration schema; every field has a default (see defaults.ts). */
export const ConfigSchema = Type.Object({
  dataDir: Type.String(),
  database: Type.Object({
    /** `sqlite:PATH` or `postgres://…` */
    url: Type.String(),
    poolSize: Type.Integer({ minimum: 1, maximum: 200 }),
    /**
     * SQLite page cache per connection, MB. 0 = automatic: 4 MB in a process that runs the worker
     * role without the api role (its queries touch the ends of indexes and scan in key order, so a
     * bigger cache only adds resident memory, bench/send), 16 MB (better-sqlite3's default) otherwise.
     */
    sqliteCacheMb: Type.Integer({ minimum: 0, maximum: 4096 }),
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
    /**
     * Which peers may set X-Forwarded-For (the client IP used for login limits and unsubscribe
     * evidence): `loopback` (a proxy on this machine), comma-separated IPs/CIDRs, or `none`.
     */
    trustProxy: Type.String(),
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
    /**
     * Batches a worker process works on at once: while one batch is transmitting, the next is
     * claimed, re-checked and admitted, so the database round trips between batches do not
     * leave SMTP and the CPU idle. Each lane sends up to `concurrency` messages.
     */
    lanes: Type.Integer({ minimum: 1, maximum: 8 }),
    /**
     * A process with the worker role but not the api role serves `/metrics` and `/healthz` on
     * this port (0 = off); with the api role they are on the HTTP port already.
     */
    metricsPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    metricsHost: Type.String(),
    pollMs: Type.Integer({ minimum: 10 }),
    /** Worker threads that render and DKIM-sign (0 = in the main thread). */
    renderThreads: Type.Integer({ minimum: 0, maximum: 64 }),
    /**
     * Whether the main thread also renders when every render thread is busy and copies are
     * waiting (src/render/render-pool.ts): `auto` = in a process with the worker role and without
     * the api role (a dedicated worker's main thread idles half of the time while its render
     * thread is the bottleneck, bench/send), `on`, `off`. A process that answers HTTP keeps its
     * main thread free for the one-click endpoint's latency under `auto`.
     */
    mainThreadRenders: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')]),
    /** Give up retrying 4xx after this many hours (R-BNC-3: at least 4-5 days). */
    retryHours: Type.Integer({ minimum: 1 }),
    /**
     * In a process with the worker role and without the api role: how far V8 lets the main heap
     * grow past what the last full collection kept, in percent (V8's `--heap-growing-percent`;
     * 0 = V8's own choice, which lets a sending worker's heap reach 3-4x its live size in
     * garbage). Smaller = more frequent full collections and less resident memory (bench/send).
     */
    heapGrowingPercent: Type.Integer({ minimum: 0, maximum: 1000 }),
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
  /** Web console (issue 8): session lifetime and the login rate limit. */
  console: Type.Object({
    sessionHours: Type.Integer({ minimum: 1, maximum: 24 * 90 }),
    /** Failed logins allowed per address and per IP within the window before 429. */
    loginMaxFailures: Type.Integer({ minimum: 1 }),
    loginWindowMinutes: Type.Integer({ minimum: 1 }),
  }),
  /** DMARC aggregate reports (issue 9): input limits (zip bombs, R-AUTH-3 reports) and the policy recommendation. */
  dmarc: Type.Object({
    /** Largest upload or attachment, compressed (bytes). */
    maxInputBytes: Type.Integer({ minimum: 1024 }),
    /** Largest XML after decompression (bytes); inflation stops at this ceiling. */
    maxXmlBytes: Type.Integer({ minimum: 1024 }),
    /** Largest inflated/compressed ratio once the output passes 1 MiB. */
    maxRatio: Type.Integer({ minimum: 2 }),
    maxRecords: Type.Integer({ minimum: 1 }),
    /** PTR lookup timeout per source (ms). */
    ptrTimeoutMs: Type.Integer({ minimum: 10 }),
    /** Days of reports needed before a stricter policy is recommended. */
    policyMinDays: Type.Integer({ minimum: 1 }),
    /** Share (0..1) of legitimate volume that must pass DMARC aligned before a stricter policy is recommended. */
    policyMinAlignedShare: Type.Number({ minimum: 0, maximum: 1 }),
  }),
  /** SMTP relay (issue 7): port 587 is smtp.submissionPort; TLS files, implicit TLS, limits, the Cc guard. */
  relay: Type.Object({
    /** Implicit-TLS submission port (465); 0 = off. */
    implicitTlsPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** PEM certificate chain and private key files for STARTTLS and implicit TLS (required when the relay runs). */
    tlsCertFile: Type.String(),
    tlsKeyFile: Type.String(),
    maxMessageBytes: Type.Integer({ minimum: 1024 }),
    maxRecipients: Type.Integer({ minimum: 1, maximum: 10_000 }),
    /** Messages per minute per SMTP credential (a credential may set its own). */
    ratePerMinute: Type.Integer({ minimum: 1 }),
    /** Subscription mail with Cc or several envelope recipients: deliver without one-click headers and warn, or reject. */
    ccGuard: Type.Union([Type.Literal('warn'), Type.Literal('reject')]),
    /** Hours the bytes of a relayed message are kept once every recipient's row is final (the log stays). */
    keepHours: Type.Integer({ minimum: 0 }),
  }),
  bounces: Type.Object({
    /** Consecutive soft bounces with no delivery between before an address is suppressed (seed 003). */
    softBounceLimit: Type.Integer({ minimum: 1, maximum: 100 }),
    /** Local part of the feedback-loop (ARF complaint) address on each return-path domain. */
    fblLocalPart: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,30}$' }),
    /** Keep abuse@ and postmaster@ mail of configured domains (RFC 2142). */
    acceptRoleAddresses: Type.Boolean(),
  }),
  /** Compliance guard (issue 6): spam-rate thresholds, bulk-sender counter, warm-up ramp, hourly caps, re-checks. */
  compliance: Type.Object({
    /** Complaint rate (complaints / delivered per day) that raises an alert, and that pauses subscription mail (R-CMPL-1). */
    spamRateWarn: Type.Number({ minimum: 0, maximum: 1 }),
    spamRatePause: Type.Number({ minimum: 0, maximum: 1 }),
    /** The rate's denominator is at least this many deliveries, so 1 complaint in 10 mails is not 10 %. */
    spamRateMinDelivered: Type.Integer({ minimum: 1 }),
    /** Rolling 24 h volume to Gmail / Outlook.com that makes a bulk sender (R-SCOPE-1/3), and the early alert. */
    bulkThreshold: Type.Integer({ minimum: 1 }),
    bulkAlertAt: Type.Integer({ minimum: 1 }),
    /** Warm-up ramp for a new sending domain and each direct-MX IP (R-VOL-1, seed 004: 50–100/day to ~1,000 in 7–10 days). */
    warmupStartPerDay: Type.Integer({ minimum: 1 }),
    warmupTargetPerDay: Type.Integer({ minimum: 1 }),
    warmupDays: Type.Integer({ minimum: 1, maximum: 90 }),
    /** Messages per clock hour per account, organisational domain and provider group; 0 = no cap. */
    hourlyCaps: Type.Object({ gmail: Type.Integer({ minimum: 0 }), yahoo: Type.Integer({ minimum: 0 }), outlook: Type.Integer({ minimum: 0 }), icloud: Type.Integer({ minimum: 0 }) }),
    /** Minutes between periodic domain re-checks (drift raises an alert); 0 = off. */
    recheckMinutes: Type.Integer({ minimum: 0 }),
  }),
  /** Signed event webhooks (issue 10). */
  webhooks: Type.Object({
    /** Run the dispatcher in worker processes. */
    enabled: Type.Boolean(),
    /** Allow http:// endpoints on localhost / 127.0.0.1 / ::1 (tests, local development); never in production. */
    allowLocalHttp: Type.Boolean(),
    pollMs: Type.Integer({ minimum: 10 }),
    batchSize: Type.Integer({ minimum: 1, maximum: 5000 }),
    concurrency: Type.Integer({ minimum: 1, maximum: 200 }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
    leaseSeconds: Type.Integer({ minimum: 5 }),
    /** Retry a failing delivery with back-off for this long. */
    retryHours: Type.Integer({ minimum: 1, maximum: 168 }),
    /** Disable an endpoint (and alert) once it has failed without a success for this long. */
    disableAfterHours: Type.Integer({ minimum: 1, maximum: 720 }),
    /** After a secret rotation the previous secret also signs for this long. */
    rotationGraceHours: Type.Integer({ minimum: 0, maximum: 720 }),
    /** A gap in event ids (an open or rolled-back transaction) holds the cursor at most this long. */
    gapGraceSeconds: Type.Integer({ minimum: 1 }),
    maxEndpointsPerAccount: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Finished deliveries and their attempt log are deleted after this many days (0 = keep). */
    logRetentionDays: Type.Integer({ minimum: 0 }),
  }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  }),
});

/** The effective configuration. */
export type Config = Static<typeof ConfigSchema>;
