import type { Deps } from '../app/deps.js';
import { getHeader, headerEnd, parseHeaderBlock } from '../bounce/mime-headers.js';
import { parseInboundReport } from '../bounce/parse-report.js';
import type { Core } from '../core/index.js';
import { raiseAlert } from '../core/alerts.js';
import { bouncesRepo } from '../store/bounces-repo.js';
import type { Transport } from '../transport/types.js';
import type { InboundSession, RecipientHandler } from './inbound-server.js';
import { reportMatcher } from './report-matcher.js';
import { outcomesFor } from './report-outcomes.js';

/** RFC 2142 role mailboxes tegami keeps for each configured domain. */
const ROLES = new Set(['abuse', 'postmaster']);

/** Seals a message before it is forwarded (ARC, R-AUTH-14); identity when no sealer is installed. */
export type ForwardSealer = (raw: Buffer, accountId: string, domainId: string | null, session: InboundSession) => Promise<Buffer>;

/** Subject and From of a raw message, for listing only (never trusted); the bounce parser's header reader. */
function listingHeaders(raw: Buffer): { subject: string | null; from: string | null } {
  const head = raw.subarray(0, Math.min(raw.length, 64 * 1024)).toString('latin1');
  const end = headerEnd(head).at;
  const fields = parseHeaderBlock(end >= 0 ? head.slice(0, end) : head);
  const short = (v: string | null) => (v === null ? null : v.slice(0, 500));
  return { subject: short(getHeader(fields, 'subject')), from: short(getHeader(fields, 'from')) };
}

/**
 * abuse@ and postmaster@ of every configured domain (issue 5 item 1, RFC 2142): stored per
 * account, listed in the API, and forwarded when the account names a forward address. ARF
 * reports arriving here are also processed as complaints.
 */
export function roleMailHandler(deps: Deps, core: Core, opts: { transport?: () => Transport; seal?: ForwardSealer } = {}): RecipientHandler {
  const repo = bouncesRepo(deps.store);
  const match = reportMatcher(deps);
  const log = deps.log.child({ component: 'role-mail' });
  return {
    name: 'role-mail',
    async match(local, domain) {
      if (!deps.config.bounces.acceptRoleAddresses || !ROLES.has(local.toLowerCase())) return null;
      const owners = await repo.roleMailOwners(domain);
      if (!owners.length) return null;
      return async (raw, s) => {
        const rcpt = `${local.toLowerCase()}@${domain}`;
        const now = deps.clock.now();
        const stored: Array<{ id: number; accountId: string; domainId: string; rawId: number }> = [];
        const listed = listingHeaders(raw);
        for (const o of owners) {
          const rawId = await repo.saveRaw({ account_id: o.account_id, kind: 'role', mail_from: s.mailFrom, rcpt_to: rcpt, remote_ip: s.remoteAddress, raw, size: raw.length, created_at: now });
          const id = await repo.insertRoleMail({
            account_id: o.account_id, domain_id: o.id, rcpt, mail_from: s.mailFrom, subject: listed.subject, from_header: listed.from,
            raw_id: rawId, forward_status: null, forward_reply: null, forwarded_at: null, created_at: now,
          });
          stored.push({ id: id, accountId: o.account_id, domainId: o.id, rawId });
          if (local.toLowerCase() === 'abuse') await raiseAlert(deps, o.account_id, 'abuse_report', { role_mail_id: id, rcpt, from: listed.from });
        }
        const report = parseInboundReport(raw);
        if (report.kind === 'arf') {
          const row = await match.byOriginal(report.original);
          // Only a report about the owning account's own message counts; the log points at that account's copy.
          const mine = row && stored.find((st) => st.accountId === row.account_id);
          if (row && mine) await core.bounces.apply(outcomesFor(report, row, mine.rawId, 'arf'));
        }
        // Forwarding happens after the 250 and never loses the stored copy; failures are recorded.
        for (const st of stored) void forward(st).catch((err) => log.error({ err, id: st.id }, 'role mail forward failed'));
        async function forward(st: { id: number; accountId: string; domainId: string; rawId: number }) {
          const target = await repo.roleForwardTo(st.accountId);
          if (!target || !opts.transport) return;
          await forwardRoleMail(deps, st.id, raw, target, opts.transport(), opts.seal, st.accountId, st.domainId, domain, s);
        }
      };
    },
  };
}

/** Sends one stored role message on to the account's forward address and records the reply. */
export async function forwardRoleMail(
  deps: Deps, id: number, raw: Buffer, target: string, transport: Transport, seal: ForwardSealer | undefined,
  accountId: string, domainId: string | null, domain: string, session: InboundSession,
): Promise<string> {
  const sealed = seal ? await seal(raw, accountId, domainId, session) : raw;
  const res = await transport.send({ accountId, envelope: { mailFrom: `postmaster@${domain}`, rcptTo: [target] }, raw: sealed });
  await bouncesRepo(deps.store).setRoleMailForward(id, { status: res.status, reply: res.reply?.slice(0, 500) ?? null, at: res.status === 'sent' ? deps.clock.now() : null });
  return res.status;
}
