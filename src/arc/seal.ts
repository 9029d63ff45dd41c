import { KeyObject } from 'node:crypto';
import { authenticate } from 'mailauth';
import { fail } from '../domain/errors.js';

/** A DNS resolver in mailauth's shape (TXT answers as arrays of strings); tests inject one. */
export type ArcResolver = (name: string, rrtype: string) => Promise<unknown>;

/** How to evaluate and seal one forwarded message. */
export interface ArcSealOptions {
  /** The sealing domain (d=) and selector (s=): a DKIM key the domain publishes. */
  domain: string;
  selector: string;
  /** RSA (most verifiers) or Ed25519 private key. */
  privateKey: KeyObject | string | Buffer;
  /** The authserv-id of our ARC-Authentication-Results (the host name that evaluated the message). */
  authservId: string;
  resolver: ArcResolver;
  /** The SMTP session the message arrived in: SPF is evaluated against it when given. */
  ip?: string;
  helo?: string;
  sender?: string;
}

/** What sealing did. */
export interface ArcSealResult {
  /** The message with the new ARC set (and our Authentication-Results) on top. */
  raw: Buffer;
  sealed: boolean;
  /** Instance number of the set added (1 for the first hop), null when none was added. */
  instance: number | null;
  /** Our verdict on the chain we received: none (no chain), pass or fail. */
  cv: string;
  /** Why no set was added (a chain that already failed, 50 sets, an unusable key). */
  errors: string[];
}

function pem(key: KeyObject | string | Buffer): string | Buffer {
  return key instanceof KeyObject ? (key.export({ type: 'pkcs8', format: 'pem' }) as string) : key;
}

/**
 * Evaluates a message as received (DKIM, SPF, DMARC and any ARC chain, with the injected
 * resolver) and adds ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal (RFC 8617,
 * R-AUTH-14) through mailauth's own sealing. Never throws for a message it may not seal.
 */
export async function arcSealResult(raw: Buffer, opts: ArcSealOptions): Promise<ArcSealResult> {
  const res = await authenticate(raw, {
    ip: opts.ip, helo: opts.helo, sender: opts.sender, mta: opts.authservId, resolver: opts.resolver as never,
    disableBimi: true, seal: { signingDomain: opts.domain, selector: opts.selector, privateKey: pem(opts.privateKey) },
  });
  const headers = res.headers;
  const m = /^ARC-Seal:[^]*?\bi=(\d+)/im.exec(headers);
  const arc = res.arc as { status?: { result?: string }; sealErrors?: Array<{ message?: string } | string> } | false;
  return {
    raw: Buffer.concat([Buffer.from(headers, 'utf8'), raw]),
    sealed: !!m,
    instance: m ? Number(m[1]) : null,
    cv: (arc && arc.status?.result) || 'none',
    errors: (arc && arc.sealErrors ? arc.sealErrors : []).map((e) => (typeof e === 'string' ? e : e.message ?? JSON.stringify(e))),
  };
}

/** Like arcSealResult, but a message that could not be sealed is an E_ARC_SEAL error (forwarding always seals). */
export async function arcSeal(raw: Buffer, opts: ArcSealOptions): Promise<Buffer> {
  const r = await arcSealResult(raw, opts);
  if (!r.sealed) fail('E_ARC_SEAL', `not sealed (cv=${r.cv}): ${r.errors.join('; ') || 'mailauth added no ARC set'}`, { cv: r.cv, errors: r.errors });
  return r.raw;
}
