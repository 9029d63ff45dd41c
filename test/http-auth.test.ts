import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/dialects.js';

describe.each(DIALECTS)('API keys and auth on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => { await t?.close(); });

  it('answers 401 without a key, with a malformed key and with a wrong secret', async () => {
    expect((await t.api('GET', '/v1/api-keys', undefined, { authorization: '' })).status).toBe(401);
    const r = await t.api('GET', '/v1/api-keys', undefined, { authorization: 'Bearer nope' });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('E_UNAUTHENTICATED');
    const wrong = t.apiKey.slice(0, -4) + 'AAAA';
    expect((await t.api('GET', '/v1/api-keys', undefined, { authorization: `Bearer ${wrong}` })).status).toBe(401);
  });

  it('creates a key shown once, stores only a salted hash, and a revoked key answers 401', async () => {
    const c = await t.api('POST', '/v1/api-keys', { name: 'ci', scopes: ['read'] });
    expect(c.status).toBe(201);
    const key: string = c.json.key;
    const secret = key.split('.')[1];
    const rows = await t.db.db.selectFrom('api_keys').selectAll().execute();
    for (const row of rows) {
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain(key);
    }
    // read scope may read but not administer
    expect((await t.api('GET', '/v1/api-keys', undefined, { authorization: `Bearer ${key}` })).status).toBe(403);
    const list = await t.api('GET', '/v1/api-keys');
    expect(list.json.items.map((k: { id: string }) => k.id)).toContain(c.json.id);
    expect(JSON.stringify(list.json)).not.toContain(secret);
    expect((await t.api('DELETE', `/v1/api-keys/${c.json.id}`)).status).toBe(204);
    expect((await t.api('DELETE', `/v1/api-keys/${c.json.id}`)).status).toBe(404);
    expect((await t.api('GET', '/healthz', undefined, { authorization: `Bearer ${key}` })).status).toBe(200);
    expect(await t.core.accounts.authenticateKey(key)).toBeNull();
  });

  it('does not let one account revoke another account\'s key (404)', async () => {
    const other = await t.core.accounts.createAccount('Other');
    const k = await t.core.accounts.createApiKey(other.id, 'theirs', ['admin']);
    expect((await t.api('DELETE', `/v1/api-keys/${k.id}`)).status).toBe(404);
    expect(await t.core.accounts.authenticateKey(k.key)).not.toBeNull();
  });

  it('serves OpenAPI, healthz and metrics without a key', async () => {
    const o = await t.api('GET', '/v1/openapi.json', undefined, { authorization: '' });
    expect(o.status).toBe(200);
    expect(o.json.openapi).toMatch(/^3\./);
    expect(Object.keys(o.json.paths)).toContain('/v1/api-keys');
    expect((await t.api('GET', '/healthz', undefined, { authorization: '' })).json.database).toBe(dialect);
    const m = await t.api('GET', '/metrics', undefined, { authorization: '' });
    const healthz = (body: string) => Number(body.match(/^tegami_http_requests_total\{method="GET",route="\/healthz",status="200"\} (\d+)$/m)?.[1] ?? NaN);
    const before = healthz(m.body);
    expect(before).toBeGreaterThan(0);
    await t.api('GET', '/healthz', undefined, { authorization: '' });
    await t.api('GET', '/healthz', undefined, { authorization: '' });
    expect(healthz((await t.api('GET', '/metrics', undefined, { authorization: '' })).body)).toBe(before + 2);
  });

  it('asks for a key on every route of the API document but login and logout, before reading the body (auth is attached per route)', async () => {
    const o = await t.api('GET', '/v1/openapi.json', undefined, { authorization: '' });
    const open: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(o.json.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        const url = path.replace(/\{[^}]+\}/g, '1');
        const r = await t.api(method.toUpperCase(), url, method === 'get' || method === 'head' || method === 'delete' ? undefined : {}, { authorization: '' });
        checked++;
        if (r.status !== 401) open.push(`${method.toUpperCase()} ${path} ${r.status}`);
      }
    }
    expect(checked).toBeGreaterThan(60);
    // Only the console's login and logout are public in the document; an anonymous body is never
    // validated (401 before 400).
    expect(open.sort()).toEqual(['DELETE /v1/session 204', 'POST /v1/session 400']);
  });
});
