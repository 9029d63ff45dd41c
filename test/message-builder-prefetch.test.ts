import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageBuilder } from '../src/send/message-builder.js';
import type { MessageRow } from '../src/store/messages-repo.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

describe.each(DIALECTS)('message builder: contact attributes prefetched per batch on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { roles: ['api', 'worker'] });
    expect((await t.api('POST', '/v1/domains', { name: 'example.com' })).status).toBe(201);
  });
  afterAll(async () => { await t?.close(); });

  it("a lane's prefetch keeps the attributes of another lane's batch in flight; a row not prefetched reads its contact", async () => {
    const addrs = Array.from({ length: 9 }, (_, i) => `p${i}@example.org`);
    const list = await seedList(t.db.db, t.accountId, 'Prefetch', addrs, { attributes: (i) => ({ first: `N${i}` }) });
    const c = await t.api('POST', '/v1/campaigns', { name: 'P', list_ids: [list.id], from: 'News <news@example.com>', subject: 'Hello {{ first }}', html: '<p>Hi {{ first }}</p>' });
    expect(c.status).toBe(201);
    await t.api('POST', `/v1/campaigns/${c.json.id}/schedule`, {});
    await t.sending!.planner.tick();
    const rows = await t.db.db.selectFrom('messages').selectAll().where('campaign_id', '=', c.json.id).orderBy('id').execute() as MessageRow[];
    expect(rows).toHaveLength(9);
    const first = new Map<number, string>();
    for (const r of rows) first.set(Number(r.contact_id), `N${addrs.indexOf(r.rcpt)}`);
    const builder = createMessageBuilder(t.deps, t.core.collab);
    try {
      // Two lanes: batch A prefetched, then batch B, while A is still being built.
      const a = rows.slice(0, 3);
      const b = rows.slice(3, 6);
      const notPrefetched = rows.slice(6);
      await builder.prefetch(a);
      await builder.prefetch(b);
      // Changed after both prefetches: a build that reads the contact again would see it.
      await t.db.db.updateTable('contacts').set({ attributes: JSON.stringify({ first: 'Reread' }) }).where('id', 'in', rows.map((r) => Number(r.contact_id))).execute();
      const subject = async (r: MessageRow) => {
        const m = await builder.build(r);
        try { return (await simpleParser(Buffer.from(m.raw))).subject; } finally { m.release?.(); }
      };
      for (const r of [...a, ...b]) expect(await subject(r)).toBe(`Hello ${first.get(Number(r.contact_id))}`);
      for (const r of notPrefetched) expect(await subject(r)).toBe('Hello Reread');
      // The next prefetch of a contact reads it again.
      await builder.prefetch(a);
      expect(await subject(a[0])).toBe('Hello Reread');
    } finally {
      await builder.close();
    }
  });
});
