import type { Deps } from '../app/deps.js';
import type { SigningKeys } from '../render/dkim.js';
import { arcSealResult, type ArcResolver, type ArcSealResult } from './seal.js';

/** What forwarding needs from the domains core: the account's stored DKIM keys. */
export interface ArcKeySource {
  getSigningKeys(accountId: string, domainId: string): Promise<SigningKeys>;
}

/** One message to forward: whose domain seals it, and the SMTP session it arrived in. */
export interface ForwardSealInput {
  accountId: string;
  /** The sealing domain (id or name) of the account, e.g. the domain whose abuse@ received it. */
  domainId: string;
  raw: Buffer;
  resolver: ArcResolver;
  session?: { ip?: string; helo?: string; sender?: string };
}

/**
 * ARC-seals a message tegami forwards (abuse@/postmaster@ forwarding, inbound routes; R-AUTH-14)
 * with the sealing domain's active RSA DKIM key (the key verifiers support everywhere; its
 * public half is already published at selector._domainkey.domain), as authserv-id smtp.hostname.
 * The caller sends `raw` on; `sealed: false` with `errors` when RFC 8617 forbids a seal (a chain
 * that already failed, or 50 sets).
 */
export async function sealForwarded(deps: Deps, keys: ArcKeySource, input: ForwardSealInput): Promise<ArcSealResult> {
  const k = await keys.getSigningKeys(input.accountId, input.domainId);
  const result = await arcSealResult(input.raw, {
    domain: k.domain, selector: k.rsa.selector, privateKey: k.rsa.privateKey, authservId: deps.config.smtp.hostname,
    resolver: input.resolver, ...input.session,
  });
  deps.log.info({ account: input.accountId, domain: k.domain, sealed: result.sealed, cv: result.cv, instance: result.instance }, 'arc seal');
  return result;
}
