import { classifyReply, enhancedFrom } from '../bounce/classify.js';
import type { DeliveryResult } from './types.js';

/** The nodemailer error fields we read. */
interface SmtpError {
  responseCode?: number;
  response?: string;
  code?: string;
  message?: string;
  command?: string;
}

/**
 * Maps a nodemailer error to a DeliveryResult value: 5xx final, 4xx deferred, and connection,
 * timeout or TLS failures deferred as 'network'. The one place nodemailer errors are read.
 */
export function resultFromError(err: unknown, mx: string | null, tls: boolean, t0: number): DeliveryResult {
  const e = err as SmtpError;
  const durationMs = Date.now() - t0;
  // A host that cannot do the required STARTTLS gets nothing in clear; retry later (R-INFRA-3).
  if (e.code === 'ETLS' || e.command === 'STARTTLS') {
    const reply = `TLS required but not negotiated: ${(e.response ?? e.message ?? '').trim()}`.slice(0, 500);
    return { status: 'deferred', reply, code: null, enhanced: null, mx, tls: false, durationMs,
      classification: { class: 'network', permanent: false, suppress: false, holdStream: false, ruleId: 'tls-required' } };
  }
  // A smarthost refusing our credentials is our configuration fault, not the message's: never a
  // final failure of every queued message; hold the stream until it is fixed (R-BNC-4 by analogy).
  if (e.code === 'EAUTH') {
    const reply = (e.response ?? e.message ?? 'authentication failed').trim().slice(0, 500);
    return { status: 'deferred', reply, code: e.responseCode ?? null, enhanced: enhancedFrom(reply), mx, tls, durationMs,
      classification: { class: 'sender_config', permanent: false, suppress: false, holdStream: true, ruleId: 'smtp-auth' } };
  }
  if (e.responseCode && e.responseCode >= 400) {
    const reply = (e.response ?? `${e.responseCode}`).trim();
    const enhanced = enhancedFrom(reply);
    const classification = classifyReply(e.responseCode, enhanced, reply);
    return { status: e.responseCode >= 500 ? 'failed' : 'deferred', reply, code: e.responseCode, enhanced, mx, tls, classification, durationMs };
  }
  const reply = `${e.code ?? 'ERROR'}: ${e.message ?? String(err)}`.slice(0, 500);
  return {
    status: 'deferred', reply, code: null, enhanced: null, mx, tls,
    classification: { class: 'network', permanent: false, suppress: false, holdStream: false, ruleId: 'network' },
    durationMs,
  };
}

/** A DeliveryResult for a 2xx reply. */
export function resultFromSuccess(response: string | undefined, mx: string | null, tls: boolean, t0: number): DeliveryResult {
  const reply = (response ?? '250 OK').trim();
  return {
    status: 'sent', reply, code: Number(reply.slice(0, 3)) || 250, enhanced: enhancedFrom(reply), mx, tls,
    classification: { class: 'delivered', permanent: false, suppress: false, holdStream: false, ruleId: null }, durationMs: Date.now() - t0,
  };
}
