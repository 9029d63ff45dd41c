import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeJson } from './helpers/node-child.js';

/**
 * Issue 3 (bench/send, peak RSS): a sending worker's main thread claims, checks, transmits and
 * records; composition and DKIM signing happen in its render threads. The libraries only the
 * threads, the API or other transports use (liquidjs, mailauth, MailComposer, pg on SQLite)
 * must not load on the main thread: each costs resident memory in every worker process.
 */
const HEAVY = ['node_modules/mailauth/', 'node_modules/liquidjs/', 'node_modules/pg/', 'nodemailer/lib/mail-composer/', 'node_modules/mailparser/'];

describe('a worker process main thread (issue 3, memory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-footprint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let runs = 0;

  function loadedAfter(script: string): string[] {
    const root = fileURLToPath(new URL('..', import.meta.url));
    // A script file, not `-e`: tsx runs an evaluated module's top-level await differently.
    const file = join(dir, `${++runs}.mts`);
    writeFileSync(file, script.replaceAll("'./src/", `'${root}src/`).replace("from 'pino'", `from '${root}node_modules/pino/pino.js'`));
    return nodeJson<string[]>(['--import', 'tsx', file], { TEGAMI_DB: `sqlite:${join(dir, `${runs}.db`)}` });
  }

  const boot = `
    import { createRequire } from 'node:module';
    import pino from 'pino';
    import { createApp } from './src/app/create-app.ts';
    import { defaultConfig } from './src/config/defaults.ts';
    const config = defaultConfig();
    config.database.url = process.env.TEGAMI_DB;
    config.transport.kind = 'smtp';
    Object.assign(config.transport.smtp, { host: '127.0.0.1', port: 9, requireTls: false });
    const app = await createApp(config, ['worker'], { log: pino({ level: 'silent' }), masterKey: Buffer.alloc(32, 1), startLoops: false, listen: false });
  `;
  const report = `
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    await app.stop();
    console.log(JSON.stringify(loaded));
  `;

  it('loads none of the render, API-only or PostgreSQL libraries on SQLite with the smarthost transport', () => {
    const loaded = loadedAfter(boot + report);
    expect(loaded.some((f) => f.includes('node_modules/better-sqlite3/'))).toBe(true); // the check sees CommonJS modules
    expect(loaded.filter((f) => HEAVY.some((h) => f.includes(h)))).toEqual([]);
  });

  it('still loads them where they are used: a template check, a preview and a relayed-message signature', () => {
    const loaded = loadedAfter(boot + `
      const acc = await app.core.accounts.createAccount('a');
      await app.core.domains.addDomain(acc.id, 'footprint.example');
      await app.core.templates.create(acc.id, { name: 't', subject: 'Hi {{ first }}', html: '<p>{{ first }}</p>', category: 'transactional' });
      await app.core.collab.preview({ kind: 'api', listId: null, category: 'transactional', subject: 's', html: '<p>x</p>', text: null, data: {}, from: { name: null, address: 'a@footprint.example' }, to: [], cc: [], replyTo: null, attachments: [], headers: {} }, { address: 'r@example.com' });
    ` + report);
    expect(loaded.some((f) => f.includes('node_modules/liquidjs/'))).toBe(true);
    expect(loaded.some((f) => f.includes('node_modules/mailauth/'))).toBe(true);
  });
});
