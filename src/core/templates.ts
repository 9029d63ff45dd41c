import type { Deps } from '../app/deps.js';
import { fail } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { templatesRepo } from '../store/templates-repo.js';
import { checkTemplateSyntax } from '../render/template-check.js';

/** Template fields as the API gives them. */
export interface TemplateInput {
  name: string;
  subject: string;
  html?: string | null;
  text?: string | null;
}

function validate(t: Partial<TemplateInput>): void {
  if (t.name !== undefined && (!t.name || t.name.length > 200)) fail('E_VALIDATION', 'name: 1-200 characters');
  if (t.subject !== undefined && /[\r\n]/.test(t.subject)) fail('E_HEADER_INJECTION', 'subject: CR or LF is not allowed');
  if (t.html === null && t.text === null) fail('E_VALIDATION', 'a template needs html or text');
  for (const [f, v] of Object.entries({ subject: t.subject, html: t.html, text: t.text })) {
    if (typeof v === 'string') checkTemplateSyntax(f, v);
  }
}

/** Liquid templates of an account (issue 3 item 3). */
export function templatesCore(deps: Deps) {
  const repo = templatesRepo(deps.store);
  return {
    async create(accountId: string, t: TemplateInput) {
      validate(t);
      if (!t.html && !t.text) fail('E_VALIDATION', 'a template needs html or text');
      const now = deps.clock.now();
      const row = { id: newId('tpl_'), account_id: accountId, name: t.name, subject: t.subject, html: t.html ?? null, text: t.text ?? null, created_at: now, updated_at: now };
      await repo.insert(row);
      return row;
    },
    async get(accountId: string, id: string) {
      const t = await repo.get(accountId, id);
      if (!t) fail('E_NOT_FOUND', 'template not found');
      return t;
    },
    list: (accountId: string) => repo.list(accountId),
    async update(accountId: string, id: string, patch: Partial<TemplateInput>) {
      validate(patch);
      const r = await repo.update(accountId, id, { ...patch, updated_at: deps.clock.now() });
      if (!Number(r.numUpdatedRows)) fail('E_NOT_FOUND', 'template not found');
      return this.get(accountId, id);
    },
    async remove(accountId: string, id: string) {
      const r = await repo.remove(accountId, id);
      if (!Number(r.numDeletedRows)) fail('E_NOT_FOUND', 'template not found');
    },
  };
}
