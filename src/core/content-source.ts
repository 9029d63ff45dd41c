import type { Db } from '../store/db.js';
import { fail } from '../domain/errors.js';
import { templatesRepo } from '../store/templates-repo.js';

/**
 * Subject and bodies of a send: given inline, or taken from a stored template (inline fields
 * win). Subject and at least one body are required.
 */
export async function contentFromInput(store: Db, accountId: string, input: { subject?: string; html?: string | null; text?: string | null; template_id?: string | null }) {
  let subject = input.subject;
  let html = input.html ?? null;
  let text = input.text ?? null;
  if (input.template_id) {
    const t = await templatesRepo(store).get(accountId, input.template_id);
    if (!t) fail('E_NOT_FOUND', 'template not found');
    subject ??= t.subject;
    html ??= t.html;
    text ??= t.text;
  }
  if (subject === undefined || subject === '') fail('E_VALIDATION', 'subject is required');
  if (/[\r\n]/.test(subject)) fail('E_HEADER_INJECTION', 'subject: CR or LF is not allowed');
  if (!html && !text) fail('E_VALIDATION', 'html or text (or a template) is required');
  return { subject, html, text };
}
