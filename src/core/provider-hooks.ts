import type { Deps } from '../app/deps.js';
import { classifyReply, type Classification } from '../bounce/classify.js';
import { tryParseAddress } from '../domain/address.js';
import { fail } from '../domain/errors.js';
import { newId, randomToken } from '../domain/ids.js';
import { decryptSecret, encryptSecret } from '../domain/secrets.js';
import { parseMailgun } from '../bounce/providers/mailgun.js';
import { parsePostmark } from '../bounce/providers/postmark.js';
import { parseSendgrid } from '../bounce/providers/sendgrid.js';
import { parseSes, type CertFetcher } from '../bounce/providers/ses.js';
import type { ProviderEvent, ProviderParse, ProviderRequest } from '../bounce/providers/types.js';
import { reportMatcher } from '../inbound/report-matcher.js';
import { providerHooksRepo } from '../store/provider-hooks-repo.js';
import type { BounceOutcome, BouncesCore } from './bounces.js';

/** Smarthost providers whose event webhooks feed the bounce pipeline (issue 5 item 5). */
export const PROVIDERS = ['ses', 'sendgrid', 'postmark', 'mailgun'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** The provider's verdict, reconciled with the shared classifier (one classifier for every source). */
function classifyProviderEvent(e: ProviderEvent): Classification {
  const code = e.code ?? (e.permanence === 'permanent' ? 550 : e.permanence === 'transient' ? 450 : null);
  const c = classifyReply(code, e.status, e.diagnostic ?? '');
  if (e.permanence === 'permanent' && c.class === 'unknown') return { ...c, class: 'hard_bounce', permanent: true, suppress: true, ruleId: c.ruleId ?? 'provider-permanent' };
  if (e.permanence === 'transient' && c.suppress) return { ...c, class: 'soft_bounce', permanent: false, suppress: false, ruleId: 'provider-transient' };
  return c;
}

/**
 * Provider webhooks: per-account hook ids with an encrypted secret (SendGrid verification key,
 * Mailgun signing key, Postmark Basic credentials, SES TopicArn); a request whose signature does
 * not verify answers 401 and writes nothing; provider retries are de-duplicated by event id.
 */
export function providerHooksCore(deps: Deps, bounces: BouncesCore) {
  const repo = providerHooksRepo(deps.store);
  const match = reportMatcher(deps);
  const certs = new Map<string, Promise<string>>();
  const http = () => deps.fetch ?? fetch;
  const fetchCert: CertFetcher = (url) => {
    let p = certs.get(url);
    if (!p) {
      p = http()(url, { signal: AbortSignal.timeout(10_000) }).then(async (r) => {
        if (!r.ok) throw new Error(`certificate fetch ${r.status}`);
        return r.text();
      });
      p.catch(() => certs.delete(url));
      certs.set(url, p);
    }
    return p;
  };
  const urlOf = (provider: string, id: string) => `${deps.config.http.publicUrl.replace(/\/$/, '')}/hooks/${provider}/${id}`;

  async function parse(provider: Provider, req: ProviderRequest): Promise<ProviderParse> {
    switch (provider) {
      case 'ses': return parseSes(req, fetchCert);
      case 'sendgrid': return parseSendgrid(req);
      case 'postmark': return parsePostmark(req);
      case 'mailgun': return parseMailgun(req);
    }
  }

  return {
    async create(accountId: string, provider: string, secret: string | null | undefined) {
      if (!PROVIDERS.includes(provider as Provider)) fail('E_VALIDATION', `provider must be one of ${PROVIDERS.join(', ')}`);
      let s = secret?.trim() || null;
      if (provider === 'postmark') s = `tegami:${randomToken(24)}`;
      if ((provider === 'sendgrid' || provider === 'mailgun') && !s) fail('E_VALIDATION', `${provider} needs its ${provider === 'sendgrid' ? 'verification key' : 'webhook signing key'} as secret`);
      if (s && (s.length > 4000 || /[\r\n]/.test(s))) fail('E_VALIDATION', 'secret: at most 4000 characters on one line');
      const id = newId('ph_');
      await repo.insert({
        id, account_id: accountId, provider, secret_enc: s ? encryptSecret(deps.masterKey, s, id) : null, created_at: deps.clock.now(), last_event_at: null, disabled_at: null,
      });
      const url = provider === 'postmark' ? urlOf(provider, id).replace('://', `://${s}@`) : urlOf(provider, id);
      return { id, provider, url, ...(provider === 'postmark' ? { basic_auth: s } : {}) };
    },
    async list(accountId: string) {
      return (await repo.list(accountId)).map((r) => ({ ...r, url: urlOf(r.provider, r.id) }));
    },
    async remove(accountId: string, id: string) {
      if (!(await repo.remove(accountId, id))) fail('E_NOT_FOUND', 'no such provider hook');
    },

    /** Handles one webhook request; a refusal is thrown as a TegamiError (401 bad signature, 400 bad body, 404 no hook). */
    async receive(provider: string, id: string, body: Buffer, headers: ProviderRequest['headers']): Promise<Record<string, unknown>> {
      const hook = await repo.active(provider, id);
      if (!hook) fail('E_NOT_FOUND', 'no such hook');
      const secret = hook.secret_enc ? decryptSecret(deps.masterKey, hook.secret_enc, hook.id) : null;
      const now = deps.clock.now();
      const parsed = await parse(provider as Provider, { body, headers, secret, now });
      if (!parsed.ok) {
        deps.log.warn({ hook: id, provider, reason: parsed.reason }, 'provider webhook refused');
        fail(parsed.status === 401 ? 'E_UNAUTHENTICATED' : 'E_VALIDATION', parsed.reason);
      }
      if (parsed.confirmUrl) {
        const r = await http()(parsed.confirmUrl, { signal: AbortSignal.timeout(10_000) });
        if (!r.ok) fail('E_UPSTREAM', `subscription confirmation answered ${r.status}`);
        return { confirmed: true };
      }
      let applied = 0;
      for (const e of parsed.events) {
        if (!(await repo.markSeen(id, e.key, now))) continue;
        const p = tryParseAddress(e.address);
        if (!p.ok) continue;
        if (e.kind === 'delivery') {
          await bounces.delivered(hook.account_id, [p.value.key]);
          continue;
        }
        const row = await match.byOriginal({ messageId: e.messageId });
        const o: BounceOutcome = {
          accountId: hook.account_id, message: row && row.account_id === hook.account_id && row.rcpt_key === p.value.key ? row : null,
          address: p.value.address, kind: e.kind, source: provider, status: e.status, diagnostic: e.diagnostic,
          classification: classifyProviderEvent(e), feedbackType: e.feedbackType ?? null,
        };
        await bounces.apply([o]);
        applied++;
      }
      await repo.touched(id, now);
      return { received: parsed.events.length, applied };
    },
  };
}
