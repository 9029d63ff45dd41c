import type { Db } from './db.js';
import type { TemplatesTable } from './types.js';

/** Message templates (liquid source), scoped by account. */
export function templatesRepo({ db }: Db) {
  return {
    insert: (row: TemplatesTable) => db.insertInto('templates').values(row).execute(),
    get: (accountId: string, id: string) =>
      db.selectFrom('templates').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    list: (accountId: string) => db.selectFrom('templates').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute(),
    update: (accountId: string, id: string, patch: Partial<Pick<TemplatesTable, 'name' | 'subject' | 'html' | 'text' | 'updated_at'>>) =>
      db.updateTable('templates').set(patch).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    remove: (accountId: string, id: string) =>
      db.deleteFrom('templates').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
  };
}
