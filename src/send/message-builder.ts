import type { Deps } from '../app/deps.js';
import type { MessageContent } from '../core/message-input.js';
import type { SendCollaborators, SendingDomain } from '../core/send-collaborators.js';
import { parseMailbox } from '../domain/address.js';
import { createMailtoLocalPart, createUnsubscribeToken, tokenKeys } from '../domain/unsubscribe-token.js';
import { verpAddress, verpKey } from '../domain/verp.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import { unsubscribeBase } from '../core/unsubscribe-base.js';
import { messagesRepo, type MessageRow } from '../store/messages-repo.js';
import type { Envelope } from '../transport/types.js';
import type { RenderSpec } from '../render/render-message.js';
import { createRenderPool } from '../render/render-pool.js';
import type { SigningKeys } from '../render/dkim.js';
import { listIdValue, listUnsubscribeValue } from '../domain/headers.js';
import type { RelayPlan } from '../inbound/relay/rewrite.js';
import { relayMessagesRepo, RELAY_DATA_PREFIX } from '../store/relay-messages-repo.js';

/** Bytes and envelope of one message, ready for a transport. */
export interface BuiltMessage {
  envelope: Envelope;
  raw: Buffer;
  /** Gives the bytes' memory back (a render-pool slot) once the transport is done with them. */
  release?: () => void;
}

/** Turns a message row into signed bytes; caches per content, campaign, domain and list. */
export interface MessageBuilder {
  /** Stops the render threads. */
  close(): Promise<void>;
  /** Loads what a batch needs in one query each (contact attributes), before build(). */
  prefetch(rows: MessageRow[]): Promise<void>;
  build(row: MessageRow): Promise<BuiltMessage>;
}

/** A small bounded cache: enough for the contents and campaigns of the batches in flight. */
function boundedCache<K, V>(max: number) {
  const m = new Map<K, V>();
  return {
    async get(k: K, load: () => Promise<V>): Promise<V> {
      const hit = m.get(k);
      if (hit !== undefined) return hit;
      const v = await load();
      if (m.size >= max) m.delete(m.keys().next().value as K);
      m.set(k, v);
      return v;
    },
  };
}


/** Creates the builder used by the worker (issue 3 items 3, 5, 6, 7). */
export function createMessageBuilder(deps: Deps, collab: SendCollaborators, opts: { mainHelps?: boolean } = {}): MessageBuilder {
  const msgs = messagesRepo(deps.store);
  const campaigns = campaignsRepo(deps.store);
  const keys = tokenKeys(deps.masterKey);
  const pool = createRenderPool(deps.config.worker.renderThreads, { mainHelps: opts.mainHelps });
  const vkey = verpKey(deps.masterKey);
  const contents = boundedCache<number, MessageContent>(256);
  const specs = boundedCache<string, MessageContent>(64);
  const domains = boundedCache<string, SendingDomain>(256);
  const lists = boundedCache<string, { name: string; label: string } | null>(256);
  // Signing keys change only on rotation; a minute of caching keeps DB reads off the hot path.
  const signingKeys = new Map<string, { at: number; keys: Promise<SigningKeys> }>();
  // Contact attributes read by prefetch(), for build(). Lanes (config worker.lanes) share this
  // builder: one lane's prefetch must not discard the attributes of another lane's batch still
  // in flight, or each of its messages reads its contact alone (bench/send 20,000: 8,798 single-row
  // queries). So prefetches add to one map, bounded (oldest first out); a miss still reads the row.
  const attributes = new Map<number, Record<string, unknown>>();
  const attributesMax = Math.max(1000, 4 * deps.config.worker.batchSize * Math.max(1, deps.config.worker.lanes));
  const keysFor = (accountId: string, domainId: string) => {
    const k = `${accountId}|${domainId}`;
    const hit = signingKeys.get(k);
    if (hit && Date.now() - hit.at < 60_000) return hit.keys;
    const keys = collab.domains.getSigningKeys(accountId, domainId);
    signingKeys.set(k, { at: Date.now(), keys });
    keys.catch(() => signingKeys.delete(k));
    return keys;
  };

  const contentOf = (row: MessageRow) => {
    if (row.content_id) {
      return contents.get(Number(row.content_id), async () => JSON.parse((await msgs.getContent(Number(row.content_id)))!.data) as MessageContent);
    }
    return specs.get(row.campaign_id!, async () => {
      const c = await campaigns.getAny(row.campaign_id!);
      if (!c) throw new Error(`campaign ${row.campaign_id} not found`);
      const from = parseMailbox(c.from_address);
      return {
        kind: 'api', from: { name: from.name, address: from.address }, replyTo: c.reply_to, to: [], cc: [], subject: c.subject,
        html: c.html, text: c.text, data: {}, attachments: [], headers: c.headers_json ? JSON.parse(c.headers_json) : {},
        category: 'subscription', listId: null,
      };
    });
  };

  // Relayed messages (issue 7): the stored bytes are rewritten per recipient, then signed.
  const relayed = relayMessagesRepo(deps.store);
  // Promises, so the rows of one message in a batch share one read; few entries, since bytes can be large.
  const relayCache = new Map<number, Promise<{ raw: Buffer; plan: RelayPlan }>>();
  const domainOf = (accountId: string, fromDomain: string) => domains.get(`${accountId}|${fromDomain}`, async () => {
    const d = await collab.domains.findDomainForAddress(accountId, fromDomain);
    if (!d) throw new Error(`from domain ${fromDomain} is not a domain of the account`);
    return d;
  });

  async function buildRelayed(row: MessageRow): Promise<BuiltMessage> {
    const id = Number(row.data!.slice(RELAY_DATA_PREFIX.length, -1));
    const load = async () => {
      const r = await relayed.get(id);
      if (!r || r.account_id !== row.account_id) throw new Error(`relayed message ${id} not found`);
      return { raw: Buffer.from(r.raw), plan: JSON.parse(r.plan) as RelayPlan };
    };
    let pending = relayCache.get(id);
    if (!pending) {
      pending = load();
      if (relayCache.size >= 8) relayCache.delete(relayCache.keys().next().value as number);
      relayCache.set(id, pending);
      pending.catch(() => relayCache.delete(id));
    }
    const rel = await pending;
    const domain = await domainOf(row.account_id, row.from_address.slice(row.from_address.lastIndexOf('@') + 1));
    const signing = await keysFor(row.account_id, domain.id);
    const list = row.category === 'subscription' && row.list_id
      ? await lists.get(`${row.account_id}|${row.list_id}`, async () => (await campaigns.listsByIds(row.account_id, [row.list_id!]))[0] ?? null)
      : null;
    let listUnsubscribe: string | null = null;
    if (row.category === 'subscription' && rel.plan.oneClick) {
      // One token per recipient row: one-click names exactly this recipient and the filter's list (R-UNSUB-3, R-UNSUB-8).
      const token = createUnsubscribeToken(keys, { accountId: row.account_id, listId: row.list_id ?? '', subject: 'm', subjectId: Number(row.id), issuedAt: Math.floor(deps.clock.now() / 1000) });
      const base = unsubscribeBase(deps.config, domain);
      listUnsubscribe = listUnsubscribeValue(`${base}/u/${token}`, `mailto:${createMailtoLocalPart(keys, Number(row.id))}@${domain.return_path_domain}?subject=unsubscribe`);
    }
    // The relay path's rewriting and signing load with the first relayed message: a campaign
    // worker signs in its render threads and never needs them on the main thread.
    const [{ rewriteRelayed }, { signMessage }, { encodePhrase }] = await Promise.all([
      import('../inbound/relay/rewrite.js'), import('../render/dkim.js'), import('../render/compose.js'),
    ]);
    const { raw } = rewriteRelayed(rel.raw, rel.plan, {
      listUnsubscribe, listId: list ? listIdValue(list.name, list.label, domain.name, encodePhrase) : null,
      feedbackId: `relay:${row.account_id}:${row.category}:tegami`,
    });
    // Signed after every header change, with the account's domain key (R-AUTH-4, R-AUTH-8).
    const signed = signMessage(raw, signing, { now: deps.clock.now() });
    const envelope: Envelope = { mailFrom: verpAddress(vkey, Number(row.id), domain.return_path_domain), rcptTo: [row.rcpt], smtpUtf8: /[^\x00-\x7f]/.test(row.rcpt) };
    return { envelope, raw: signed };
  }

  return {
    close: () => pool.close(),
    async prefetch(rows) {
      const ids = [...new Set(rows.filter((r) => r.contact_id).map((r) => Number(r.contact_id)))];
      const read = await msgs.contactAttributes(ids);
      for (const id of ids) {
        // Re-inserted, so it is the newest; a contact that is gone loses an older entry too.
        attributes.delete(id);
        const a = read.get(id);
        if (a) attributes.set(id, a);
      }
      for (const id of attributes.keys()) {
        if (attributes.size <= attributesMax) break;
        attributes.delete(id);
      }
    },
    async build(row) {
      if (row.data?.startsWith(RELAY_DATA_PREFIX)) return buildRelayed(row);
      const content = await contentOf(row);
      const fromDomain = content.from.address.slice(content.from.address.lastIndexOf('@') + 1);
      const domain = await domains.get(`${row.account_id}|${fromDomain}`, async () => {
        const d = await collab.domains.findDomainForAddress(row.account_id, fromDomain);
        if (!d) throw new Error(`from domain ${fromDomain} is not a domain of the account`);
        return d;
      });
      const signing = await keysFor(row.account_id, domain.id);
      const list = row.category === 'subscription' && row.list_id
        ? await lists.get(`${row.account_id}|${row.list_id}`, async () => (await campaigns.listsByIds(row.account_id, [row.list_id!]))[0] ?? null)
        : null;
      let attrs: Record<string, unknown> = {};
      if (row.contact_id) {
        const id = Number(row.contact_id);
        attrs = attributes.get(id) ?? (await msgs.contactAttributes([id])).get(id) ?? {};
      }
      let unsubscribe: RenderSpec['unsubscribe'] = null;
      if (row.category === 'subscription') {
        const token = createUnsubscribeToken(keys, {
          accountId: row.account_id, listId: row.list_id ?? '', subject: row.contact_id ? 'c' : 'm',
          subjectId: Number(row.contact_id ?? row.id), issuedAt: Math.floor(deps.clock.now() / 1000),
        });
        const base = unsubscribeBase(deps.config, domain);
        unsubscribe = { url: `${base}/u/${token}`, mailto: `mailto:${createMailtoLocalPart(keys, Number(row.id))}@${domain.return_path_domain}?subject=unsubscribe`, preferencesUrl: `${base}/u/${token}/preferences` };
      }
      const { raw, release } = await pool.renderLeased({
        cacheKey: row.content_id ? `content:${row.content_id}` : `campaign:${row.campaign_id}`,
        content, recipient: { address: row.rcpt, attributes: attrs }, messageId: row.message_id, date: new Date(deps.clock.now()),
        list: list ? { name: list.name, label: list.label, namespace: domain.name } : null,
        unsubscribe, feedbackId: `${row.campaign_id ?? 'api'}:${row.account_id}:${row.category}:tegami`, keys: signing,
      });
      const envelope: Envelope = { mailFrom: verpAddress(vkey, Number(row.id), domain.return_path_domain), rcptTo: [row.rcpt], smtpUtf8: /[^\x00-\x7f]/.test(row.rcpt) };
      return { envelope, raw, release };
    },
  };
}
