import type { Db } from '../store/db.js';
import { capturedRepo } from '../store/captured-repo.js';
import type { Clock } from '../domain/clock.js';
import type { DeliveryResult, Transport } from './types.js';

/** Keeps every message in the database instead of sending it (the default transport). */
export function captureTransport(store: Db, clock: Clock): Transport {
  const repo = capturedRepo(store);
  return {
    kind: 'capture',
    async send(req): Promise<DeliveryResult> {
      const t0 = Date.now();
      const r = await repo.insert({
        account_id: req.accountId, message_id: req.messageRowId ?? null, mail_from: req.envelope.mailFrom,
        rcpt_to: req.envelope.rcptTo.join(','), raw: req.raw, size: req.raw.length, created_at: clock.now(),
      });
      return {
        status: 'sent', reply: `250 2.0.0 captured as ${r.id}`, code: 250, enhanced: '2.0.0', mx: 'capture', tls: false,
        classification: { class: 'delivered', permanent: false, suppress: false, holdStream: false, ruleId: null }, durationMs: Date.now() - t0,
      };
    },
    async close() {},
  };
}
