import { readFileSync } from 'node:fs';

/** Outcome classes of an SMTP reply or DSN status. */
export type BounceClass =
  | 'delivered' | 'hard_bounce' | 'soft_bounce' | 'mailbox_full' | 'sender_config' | 'policy' | 'rate_limited' | 'content' | 'network' | 'unknown';

/** What a reply means for the recipient and the stream. */
export interface Classification {
  class: BounceClass;
  permanent: boolean;
  /** Suppress the recipient (address-class codes, R-BNC-2). */
  suppress: boolean;
  /** A sender configuration fault: hold the stream, never suppress (R-BNC-4). */
  holdStream: boolean;
  ruleId: string | null;
}

/** One parsed rule of rules/smtp-replies.txt. */
export interface ReplyRule {
  id: string;
  code: RegExp | null;
  text: RegExp | null;
  cls: BounceClass;
  suppress: boolean;
  hold: boolean;
  /** Only for replies from this provider (src/bounce/provider.ts), or null for any. */
  provider: string | null;
}

const CLASSES = new Set<BounceClass>(['hard_bounce', 'soft_bounce', 'mailbox_full', 'sender_config', 'policy', 'rate_limited', 'content', 'network', 'unknown']);

/** Parses the rules file; a bad line is an error naming the line (data must not fail silently). */
export function parseRules(src: string, name = 'rules'): ReplyRule[] {
  const out: ReplyRule[] = [];
  src.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const f = t.split(/\s+\|\s+/);
    const where = `${name}:${i + 1}`;
    if (f.length !== 6 && f.length !== 7) throw new Error(`${where}: expected 6 fields (7 with a provider) separated by |`);
    const [id, code, text, cls, sup, hold, provider] = f;
    if (provider !== undefined && !/^[a-z0-9-]{2,30}$/.test(provider)) throw new Error(`${where}: bad provider ${provider}`);
    if (!CLASSES.has(cls as BounceClass)) throw new Error(`${where}: unknown class ${cls}`);
    if (!/^(yes|no)$/.test(sup) || !/^(yes|no)$/.test(hold)) throw new Error(`${where}: suppress/hold must be yes or no`);
    if (code !== '*' && !/^[x245](\.(x|\d{1,3})){2}$/.test(code)) throw new Error(`${where}: bad code pattern ${code}`);
    out.push({
      id,
      code: code === '*' ? null : new RegExp('^' + code.split('.').map((p) => (p === 'x' ? '\\d{1,3}' : p)).join('\\.') + '$'),
      text: text === '*' ? null : new RegExp(text, 'i'),
      cls: cls as BounceClass, suppress: sup === 'yes', hold: hold === 'yes', provider: provider ?? null,
    });
  });
  return out;
}

const RULES = parseRules(readFileSync(new URL('./rules/smtp-replies.txt', import.meta.url), 'utf8'), 'smtp-replies.txt');

/** The rule of smtp-replies.txt with this id (to tell code-only rules from text rules). */
export function replyRule(id: string | null): ReplyRule | undefined {
  return id === null ? undefined : RULES.find((r) => r.id === id);
}

/** Extracts the enhanced status code (RFC 3463) from reply text, e.g. '5.1.1'. */
export function enhancedFrom(text: string): string | null {
  // Exchange writes "<host #5.1.1>": a closing angle bracket also ends the code.
  const m = /(?:^|[\s(\-#<])([245]\.\d{1,3}\.\d{1,3})(?=$|[\s).,;:\]>])/.exec(text);
  return m ? m[1] : null;
}

/**
 * Classifies an SMTP reply or DSN status with the data-driven rules (first match wins).
 * Without an enhanced code the basic code's class stands in (550 → 5.0.0). `provider` (from
 * providerOf in provider.ts) enables the rules written for one provider's numbering.
 */
export function classifyReply(code: number | null, enhanced: string | null, text: string, rules: ReplyRule[] = RULES, provider: string | null = null): Classification {
  const enh = enhanced ?? enhancedFrom(text) ?? (code ? `${String(code)[0]}.0.0` : null);
  // The basic reply code decides retry behaviour (Gmail sends 421 5.7.32); the enhanced code the reason.
  const permanent = code !== null ? code >= 500 : !!enh?.startsWith('5');
  if (enh?.startsWith('2') || (code !== null && code >= 200 && code < 300)) {
    return { class: 'delivered', permanent: false, suppress: false, holdStream: false, ruleId: null };
  }
  for (const r of rules) {
    if (r.provider && r.provider !== provider) continue;
    if (r.code && (!enh || !r.code.test(enh))) continue;
    if (r.text && !r.text.test(text)) continue;
    return { class: r.cls, permanent, suppress: r.suppress && permanent, holdStream: r.hold, ruleId: r.id };
  }
  return { class: permanent ? 'unknown' : 'soft_bounce', permanent, suppress: false, holdStream: false, ruleId: null };
}
