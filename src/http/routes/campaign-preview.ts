import { Type } from '@sinclair/typebox';
import { parseAddress, parseMailbox } from '../../domain/address.js';
import { fail } from '../../domain/errors.js';
import { composeMessage } from '../../render/compose.js';
import { mergeVars } from '../../render/render-message.js';
import { compileContent, renderContent } from '../../render/template.js';
import { unsubscribeBase } from '../../core/unsubscribe-base.js';
import { principalOf } from '../auth.js';
import { IdParams } from '../schemas.js';
import type { RouteModule } from '../types.js';

/**
 * What the console's campaign screen needs beyond the campaign routes (issue 8 item 5): a preview
 * of the rendered HTML, text and headers for a sample recipient, a test send of the same content,
 * and why queued messages are held.
 */
export const campaignPreviewRoutes: RouteModule = (app, { core, deps }) => {
  app.get('/v1/campaigns/:id/preview', {
    config: { scope: 'read' },
    schema: { tags: ['campaigns'], params: IdParams, querystring: Type.Object({ email: Type.Optional(Type.String({ maxLength: 320 })) }) },
  }, async (req) => {
    const accountId = principalOf(req).accountId;
    const c = await core.campaigns.get(accountId, req.params.id);
    const from = parseMailbox(c.from_address, 'from');
    const domain = await core.domains.findDomainForAddress(accountId, from.domain);
    if (!domain) fail('E_DOMAIN_UNVERIFIED', `from: ${from.domain} is not a domain of this account (R-AUTH-12)`);
    const base = unsubscribeBase(deps.config, domain);
    // The token is a placeholder: each recipient's real one is made at send time (R-UNSUB-3).
    const unsubscribe = { url: `${base}/u/TOKEN`, mailto: `mailto:u+TOKEN@${domain.return_path_domain}?subject=unsubscribe`, preferencesUrl: `${base}/u/TOKEN/preferences` };
    const parsed = req.query.email ? parseAddress(req.query.email, 'email') : null;
    const rcpt = parsed ? parsed.address : `preview@${from.domain}`;
    // A contact of the account previews with its own attributes (merge fields as it will get them).
    const contact = parsed ? (await core.contacts.list(accountId, { prefix: parsed.key, limit: 5 })).find((x) => x.address_key === parsed.key) : undefined;
    const attributes = contact ? JSON.parse(contact.attributes) as Record<string, unknown> : {};
    const listIds = JSON.parse(c.list_ids) as string[];
    const headers = c.headers_json ? JSON.parse(c.headers_json) as Record<string, string> : {};
    const content = {
      kind: 'api' as const, from: { name: from.name, address: from.address }, replyTo: c.reply_to, to: [], cc: [], subject: c.subject,
      html: c.html, text: c.text, data: {}, attachments: [], headers, category: 'subscription' as const, listId: listIds[0] ?? null,
    };
    const parts = renderContent(compileContent(content), mergeVars({ content, recipient: { address: rcpt, attributes }, unsubscribe }));
    const list = listIds[0] ? await core.lists.get(accountId, listIds[0]) : null;
    const raw = await composeMessage({
      from: content.from, to: [rcpt], replyTo: c.reply_to, subject: parts.subject, html: parts.html, text: parts.text, headers,
      messageId: `<preview@${from.domain}>`, date: new Date(deps.clock.now()), category: 'subscription',
      list: list ? { name: list.name, label: list.label, namespace: domain.name } : null,
      unsubscribe,
      feedbackId: `${c.id}:${accountId}:subscription:tegami`,
    });
    const head = raw.toString('utf8').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
    const fields = head.split(/\r?\n/).map((l) => ({ name: l.slice(0, l.indexOf(':')), value: l.slice(l.indexOf(':') + 1).trim() }))
      .filter((h) => h.name && !/^(content-|mime-version)/i.test(h.name));
    return { to: rcpt, contact_id: contact ? Number(contact.id) : null, subject: parts.subject, html: parts.html, text: parts.text, headers: fields, signed_at_send: ['DKIM-Signature'] };
  });
  app.post('/v1/campaigns/:id/test', {
    config: { scope: 'write' },
    schema: { tags: ['campaigns'], params: IdParams, body: Type.Object({ to: Type.Array(Type.String({ maxLength: 320 }), { minItems: 1, maxItems: 5 }) }) },
  }, async (req, reply) => {
    const p = principalOf(req);
    const c = await core.campaigns.get(p.accountId, req.params.id);
    const listIds = JSON.parse(c.list_ids) as string[];
    const r = await core.messages.submit(p.accountId, {
      from: c.from_address, reply_to: c.reply_to, to: req.body.to, subject: c.subject, html: c.html, text: c.text,
      headers: c.headers_json ? JSON.parse(c.headers_json) : {}, category: 'subscription', list_id: listIds[0],
    }, { actor: p.actor });
    return reply.status(202).send(r);
  });
  // Why queued messages wait (warm-up, hourly caps, paused streams), for the live progress screen.
  app.get('/v1/campaigns/:id/held', { config: { scope: 'read' }, schema: { tags: ['campaigns'], params: IdParams } }, async (req) => {
    const accountId = principalOf(req).accountId;
    await core.campaigns.get(accountId, req.params.id);
    return { reasons: await core.compliance.heldReasons(accountId, req.params.id) };
  });
};
