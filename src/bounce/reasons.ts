import { readFileSync } from 'node:fs';
import { reasonAction, SISIMAI_REASONS } from './sisimai-reasons.js';

/** One rule of rules/reasons.txt. */
export interface ReasonRule {
  id: string;
  code: RegExp | null;
  text: RegExp | null;
  reason: string;
}

/** Compiles an enhanced-code pattern (`5.1.1`, `x.7.x`) to an anchored regex. */
export function codePattern(code: string, where: string): RegExp | null {
  if (code === '*') return null;
  if (!/^[x245](\.(x|\d{1,3})){2}$/.test(code)) throw new Error(`${where}: bad code pattern ${code}`);
  return new RegExp('^' + code.split('.').map((p) => (p === 'x' ? '\\d{1,3}' : p)).join('\\.') + '$');
}

/** Parses reasons.txt; a bad line throws naming the line (data must not fail silently). */
export function parseReasonRules(src: string, name = 'reasons'): ReasonRule[] {
  const out: ReasonRule[] = [];
  src.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const where = `${name}:${i + 1}`;
    const f = t.split(/\s+\|\s+/);
    if (f.length !== 4) throw new Error(`${where}: expected 4 fields separated by " | "`);
    const [id, code, text, reason] = f;
    if (!(reason in SISIMAI_REASONS)) throw new Error(`${where}: unknown reason ${reason}`);
    out.push({ id, code: codePattern(code, where), text: text === '*' ? null : new RegExp(text, 'i'), reason });
  });
  return out;
}

const RULES = parseReasonRules(readFileSync(new URL('./rules/reasons.txt', import.meta.url), 'utf8'), 'reasons.txt');

/** Input of the reason decision. */
export interface ReasonInput {
  /** Enhanced status (5.1.1), or null. */
  status: string | null;
  /** Diagnostic text (SMTP reply and explanation). */
  text: string;
  /** Less reliable text (the human-readable part), consulted when `text` names no reason. */
  extra?: string | null;
  /** SMTP reply code, when known. */
  replyCode?: number | null;
  /** DSN Action (failed, delayed, delivered, …). */
  action?: string | null;
}

/** The Sisimai reason for a failure, and the rule that decided it. */
export function decideReason(input: ReasonInput, rules: ReasonRule[] = RULES): { reason: string; ruleId: string | null } {
  const action = (input.action ?? '').toLowerCase();
  if (action === 'delivered' || action === 'relayed' || action === 'expanded' || input.status?.startsWith('2.')) return { reason: 'delivered', ruleId: 'action' };
  const byText = (t: string) => rules.find((r) => r.text && (!r.code || (input.status && r.code.test(input.status))) && r.text.test(t.slice(0, 4000)));
  const byCode = () => rules.find((r) => !r.text && r.code && input.status && r.code.test(input.status));
  const specific = !!input.status && !/^\d\.0\.0$/.test(input.status);
  // The diagnostic's words, then a specific status code, then the explanation's words, then any code.
  let hit = byText(input.text) ?? (specific ? byCode() : undefined) ?? (input.extra ? byText(input.extra) : undefined) ?? byCode();
  const transient = input.status?.startsWith('4.') || (!input.status && !!input.replyCode && input.replyCode < 500);
  // A failure after retries for want of an answer or a connection is an expiry (RFC 3464 §2.3.3:
  // "failed" with 4.x.x; RFC 3463 4.4.1, 4.4.2, 4.4.7).
  const noAnswer = !input.status || /^4\.(0\.0|4\.[127])$/.test(input.status);
  if (transient && noAnswer && action !== 'delayed' && action !== '' && (!hit || hit.reason === 'networkerror')) return { reason: 'expired', ruleId: 'transient-final' };
  if (hit) return { reason: hit.reason, ruleId: hit.id };
  if (action === 'delayed' || transient) return { reason: 'expired', ruleId: 'transient' };
  return { reason: input.status ? 'onhold' : 'undefined', ruleId: null };
}

export { reasonAction };
