import type { Classification } from '../bounce/classify.js';

/** SMTP envelope of one transmission. */
export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
  /** The envelope or headers need SMTPUTF8 (R-EAI-1). */
  smtpUtf8?: boolean;
}

/** What a transport is asked to send. */
export interface SendRequest {
  accountId: string;
  messageRowId?: number;
  envelope: Envelope;
  raw: Buffer;
}

/** Outcome family of one attempt. */
export type DeliveryStatus = 'sent' | 'deferred' | 'failed';

/** The result of one attempt: a value, never an exception, for expected outcomes (DESIGN convention 6). */
export interface DeliveryResult {
  status: DeliveryStatus;
  /** Full SMTP reply, e.g. '550 5.1.1 <x@y>: user unknown'. */
  reply: string | null;
  code: number | null;
  enhanced: string | null;
  /** Host that answered. */
  mx: string | null;
  /** Whether the transmission was encrypted. */
  tls: boolean;
  classification: Classification;
  durationMs: number;
}

/** The Transport port: capture (default), smtp smarthost, mx direct. */
export interface Transport {
  readonly kind: 'capture' | 'smtp' | 'mx';
  send(req: SendRequest): Promise<DeliveryResult>;
  close(): Promise<void>;
}
