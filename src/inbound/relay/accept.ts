import type { Deps } from '../../app/deps.js';
import type { Core } from '../../core/index.js';
import { newMessageId } from '../../core/messages.js';
import type { RelayPrincipal } from '../../core/relay.js';
import type { SendingDomain } from '../../core/send-collaborators.js';
import { unsubscribeBase } from '../../core/unsubscribe-base.js';
import { parseAddress, parseMailbox, tryParseAddress, type Address } from '../../domain/address.js';
import { fail } from '../../domain/errors.js';
import { messagesRepo, type MessageRow } from '../../store/messages-repo.js';
import { relayMessagesRepo, RELAY_DATA_PREFIX } from '../../store/relay-messages-repo.js';
import { matchFilter } from './filters.js';
import { normalizeLineEnds, splitMessage, valuesOf, type HeaderField } from './message-headers.js';
import type { RelayPlan } from './rewrite.js';

/** The SMTP session facts the relay records (never the body or the password, DESIGN convention 11). */
export interface RelaySession {
  id: string;
  remoteAddress: string;
  clientHostname: string;
  secure: boolean;
}

/** What a DATA command produced: the stored message and its recipients' fate. */
export interface AcceptResult {
  relayId: number;
  queued: number;
  skipped: number;
  warnings: string[];
}

/** Single-instance fields (R-FMT-4); a duplicate is refused rather than guessed at. */
const SINGLE = ['from', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to', 'sender', 'in-reply-to', 'references'];
const LIST_SINGLE = ['list-unsubscribe', 'list-unsubscribe-post', 'list-id'];
const MSGID = /^<[^<>\s@]+@[^<>\s@]+>$/;

/** RFC 5322 date-time in UTC. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

function fromOf(fields: HeaderField[]): Address {
  const froms = valuesOf(fields, 'from');
  if (froms.length !== 1) fail('E_RELAY_MESSAGE', froms.length ? 'more than one From field (R-FMT-4)' : 'the message has no From field (RFC 5322 §3.6)');
  try {
    return parseMailbox(froms[0], 'From');
  } catch {
    const m = /<([^<>]+)>\s*$/.exec(froms[0]);
    if (m) return parseAddress(m[1], 'From');
    return fail('E_RELAY_MESSAGE', 'From: exactly one valid mailbox is required (R-FMT-2)');
  }
}

function checkDuplicates(fields: HeaderField[], names: string[]): void {
  for (const n of names) {
    if (fields.filter((f) => f.key === n).length > 1) fail('E_RELAY_MESSAGE', `the ${n} field appears more than once (R-FMT-4)`);
  }
}

/** The Received field of this hop; the client's HELO name is reduced to host-name characters (no header injection). */
function receivedField(s: RelaySession, p: RelayPrincipal, hostname: string, now: number): string {
  const helo = (s.clientHostname || 'unknown').replace(/[^A-Za-z0-9.:\-[\]]/g, '').slice(0, 255) || 'unknown';
  const ip = s.remoteAddress.replace(/[^0-9A-Fa-f.:]/g, '');
  const proto = `ESMTP${s.secure ? 'S' : ''}${p.via === 'auth' ? 'A' : ''}`;
  return `Received: from ${helo} ([${ip}])\r\n\tby ${hostname} (tegami relay) with ${proto} id ${s.id.replace(/[^A-Za-z0-9]/g, '')};\r\n\t${rfc5322Date(now)}`;
}

/**
 * Accepts one relayed message (issue 7 items 2-5): the From domain must be the account's, the
 * first matching filter makes it subscription mail of a list, the Cc guard applies, every
 * recipient is checked against the ledger, and the bytes plus one message row per recipient are
 * committed in one transaction before the caller answers 250 — a crash after 250 loses nothing.
 */
export function relayAcceptor(deps: Deps, core: Core) {
  const { collab } = core;
  const log = deps.log.child({ component: 'relay' });
  // Known-good (account, domain) checks: signing keys exist, preflight passed. A minute of caching keeps them off the hot path.
  const checked = new Map<string, number>();
  const once = async (key: string, fn: () => Promise<unknown>) => {
    const at = checked.get(key);
    if (at && Date.now() - at < 60_000) return;
    await fn();
    if (checked.size > 10_000) checked.clear();
    checked.set(key, Date.now());
  };

  // From domain -> the account's domain row, for 5 s (a domain with queued mail cannot be removed).
  const domains = new Map<string, { at: number; row: Promise<SendingDomain | undefined> }>();
  const domainFor = (accountId: string, name: string) => {
    const k = `${accountId}|${name}`;
    const hit = domains.get(k);
    if (hit && Date.now() - hit.at < 5000) return hit.row;
    const row = collab.domains.findDomainForAddress(accountId, name);
    if (domains.size > 10_000) domains.clear();
    domains.set(k, { at: Date.now(), row });
    row.catch(() => domains.delete(k));
    return row;
  };

  return async function accept(p: RelayPrincipal, envelope: { mailFrom: string; rcptTo: string[] }, data: Buffer, s: RelaySession): Promise<AcceptResult> {
    const raw = normalizeLineEnds(data);
    const { fields } = splitMessage(raw);
    checkDuplicates(fields, SINGLE);
    const from = fromOf(fields);
    const domain = await domainFor(p.accountId, from.domain);
    if (!domain) fail('E_DOMAIN_UNVERIFIED', `From: ${from.domain} is not a domain of this account (R-AUTH-12)`);
    await once(`keys|${p.accountId}|${domain.id}`, () => collab.domains.getSigningKeys(p.accountId, domain.id));

    const rules = await core.relay.filtersForRelay(p.accountId);
    const rule = matchFilter(rules, fields);
    const category = rule ? 'subscription' as const : 'transactional' as const;
    const listId = rule?.list_id ?? null;
    if (!rule) checkDuplicates(fields, LIST_SINGLE);
    const seen = new Set<string>();
    const rcpts = envelope.rcptTo.map((a) => parseAddress(a, 'RCPT TO')).filter((a) => (seen.has(a.key) ? false : (seen.add(a.key), true)));
    const warnings: string[] = [];
    let oneClick = category === 'subscription';
    const cc = [...valuesOf(fields, 'cc'), ...valuesOf(fields, 'bcc')].some((v) => v.length > 0);
    if (oneClick && (cc || rcpts.length > 1)) {
      // A Cc recipient's one-click would unsubscribe the To address (seed 001).
      const why = cc ? 'the message has Cc/Bcc' : `${rcpts.length} envelope recipients`;
      if (deps.config.relay.ccGuard === 'reject') fail('E_CC_ON_SUBSCRIPTION', `subscription mail (filter ${rule!.id}) with ${why} is refused: one-click would unsubscribe another recipient`);
      oneClick = false;
      warnings.push(`cc_guard: ${why}; List-Unsubscribe withheld`);
    }
    if (category === 'subscription') {
      if (oneClick) unsubscribeBase(deps.config, domain);
      await once(`preflight|${p.accountId}|${domain.id}`, () => collab.preflight(p.accountId, { from: from.address, category, domainId: domain.id }));
    }
    const blocked = await collab.suppressions.checkBatch(p.accountId, rcpts.map((r) => r.key), { category, listId });

    const now = deps.clock.now();
    const ids = valuesOf(fields, 'message-id');
    const clientId = ids.length === 1 && MSGID.test(ids[0]) ? ids[0] : null;
    const plan: RelayPlan = {
      category, listId, oneClick, remove: [...new Set([...rules.map((r) => r.header), ...(ids.length && !clientId ? ['message-id'] : [])])],
      received: receivedField(s, p, deps.config.smtp.hostname, now), messageId: clientId ? null : newMessageId(p.accountId, domain.name),
      date: valuesOf(fields, 'date').length ? null : rfc5322Date(now), warnings,
    };
    const messageId = clientId ?? plan.messageId!;
    const result = await deps.store.db.transaction().execute(async (tx) => {
      const store = { ...deps.store, db: tx };
      const relayId = await relayMessagesRepo(store).insert({
        account_id: p.accountId, credential_id: p.credentialId, filter_id: rule?.id ?? null, mail_from: envelope.mailFrom.slice(0, 320),
        raw, size: raw.length, plan: JSON.stringify(plan), created_at: now,
      });
      const repo = messagesRepo(store);
      const rows = await repo.insertMessages(rcpts.map((r) => {
        const b = blocked.get(r.key);
        return {
          account_id: p.accountId, campaign_id: null, content_id: null, list_id: listId, contact_id: null, category, domain_id: domain.id,
          from_address: from.address, rcpt: r.address, rcpt_key: r.key, data: `${RELAY_DATA_PREFIX}${relayId}}`, message_id: messageId,
          status: b ? 'skipped' : 'queued', reason: b ? `suppressed:${b.reason}` : null, attempts: 0, next_attempt_at: now,
          lease_owner: null, lease_until: null, last_reply: null, created_at: now, updated_at: now, sent_at: null,
        };
      }));
      const ids = rows.map((m) => Number(m.id));
      await relayMessagesRepo(store).setMessageIds(relayId, Math.min(...ids), Math.max(...ids));
      await repo.insertEvents(rows.map((m: MessageRow) => ({
        account_id: p.accountId, message_id: m.id, campaign_id: null, type: m.status, created_at: now,
        data: JSON.stringify(m.status === 'skipped'
          ? { reason: m.reason, scope: blocked.get(m.rcpt_key)?.scope, at: 'relay', relay: relayId }
          : { via: 'relay', relay: relayId, credential: p.credentialId, session: s.id, filter: rule?.id ?? null, warnings }),
      })));
      return { relayId, queued: rows.filter((m) => m.status === 'queued').length, skipped: rows.filter((m) => m.status === 'skipped').length, warnings };
    });
    const ctx = { account: p.accountId, credential: p.credentialId, session: s.id, relay: result.relayId };
    if (warnings.length) log.warn({ ...ctx, warnings }, 'relayed subscription mail without one-click unsubscribe (Cc guard)');
    log.debug({ ...ctx, queued: result.queued, skipped: result.skipped, category }, 'relayed message accepted');
    return result;
  };
}

/** True when an address parses (RCPT TO check). */
export function validRecipient(address: string): boolean {
  return tryParseAddress(address).ok;
}
