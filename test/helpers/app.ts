import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createApp, type CreateAppOptions, type Role, type TegamiApp } from '../../src/app/create-app.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/schema.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Dialect } from '../../src/store/db.js';
import { createTestDb, type TestDb } from './dialects.js';

/** A tegami wired to a fresh test database, with one account and an admin API key. */
export interface TestApp extends TegamiApp {
  db: TestDb;
  clock: ManualClock;
  accountId: string;
  apiKey: string;
  /** inject() with the admin key set. */
  api(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; body: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Builds a test app on the dialect; `configure` may change the config first. */
export async function createTestApp(dialect: Dialect, opts: { roles?: Role[]; configure?: (c: Config) => void; listen?: boolean; create?: Partial<CreateAppOptions> } = {}): Promise<TestApp> {
  const db = await createTestDb(dialect);
  const config = defaultConfig();
  config.http.port = 0;
  config.log.level = 'silent';
  config.http.publicUrl = 'https://mail.tegami.test';
  opts.configure?.(config);
  const clock = new ManualClock(Date.now());
  const app = await createApp(config, opts.roles ?? ['api'], {
    store: db, clock, log: pino({ level: 'silent' }), masterKey: randomBytes(32), listen: opts.listen ?? false, startLoops: false, ...opts.create,
  });
  const account = await app.core.accounts.createAccount('Test account');
  const key = await app.core.accounts.createApiKey(account.id, 'test', ['admin']);
  const api: TestApp['api'] = async (method, url, body, headers = {}) => {
    const res = await app.http!.inject({
      method: method as 'GET', url, payload: body === undefined ? undefined : (body as object),
      headers: { authorization: `Bearer ${key.key}`, ...headers },
    });
    let json: unknown = null;
    try { json = res.json(); } catch { /* not JSON */ }
    return { status: res.statusCode, json, body: res.body, headers: res.headers };
  };
  return {
    ...app, db, clock, accountId: account.id, apiKey: key.key, api,
    async close() {
      await app.stop();
      await db.cleanup();
    },
  };
}
