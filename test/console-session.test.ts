import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../src/app/bootstrap.js';
import { createApp } from '../src/app/create-app.js';
import { defaultConfig } from '../src/config/defaults.js';
import { ManualClock } from '../src/domain/clock.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { createTestDb, DIALECTS } from './helpers/dialects.js';
import { seedList } from './helpers/fixtures.js';

type Res = { status: number; json: any; headers: Record<string, unknown> };

describe.each(DIALECTS)('console login, sessions, roles and CSRF on %s (issue 8)', (dialect) => {
  let t: TestApp;
  const pw = 'correct horse battery';
  const call = async (method: string, url: string, opts: { cookie?: string; csrf?: string; body?: unknown; ip?: string; bearer?: string } = {}): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    const r = await t.http!.inject({ method: method as 'GET', url, headers, payload: opts.body as object, remoteAddress: opts.ip ?? '192.0.2.10' });
    let json: unknown = null;
    try { json = r.json(); } catch { /* empty */ }
    return { status: r.statusCode, json, headers: r.headers };
  };
  const login = async (email: string, password = pw, ip?: string) => {
    const r = await call('POST', '/v1/session', { body: { email, password }, ip });
    const set = String(r.headers['set-cookie'] ?? '');
    return { ...r, setCookie: set, cookie: set.split(';')[0], csrf: r.json?.csrf_token as string };
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, { configure: (c) => { c.console.loginMaxFailures = 3; c.console.loginWindowMinutes = 10; } });
    for (const [email, role] of [['admin@example.com', 'admin'], ['editor@example.com', 'editor'], ['viewer@example.com', 'viewer']]) {
      const r = await t.api('POST', '/v1/users', { email, role, password: pw });
      expect(r.status).toBe(201);
      expect(r.json).not.toHaveProperty('password_hash');
    }
  });
  afterAll(async () => { await t?.close(); });

  it('logs in with a Secure, HttpOnly, SameSite=Strict cookie and shows the session with its CSRF token', async () => {
    const r = await login('Admin@Example.com');
    expect(r.status).toBe(201);
    expect(r.setCookie).toMatch(/^tegami_session=[A-Za-z0-9_-]{40,};/);
    expect(r.setCookie).toContain('HttpOnly');
    expect(r.setCookie).toContain('SameSite=Strict');
    expect(r.setCookie).toContain('Secure');
    expect(r.setCookie).toContain('Path=/');
    expect(r.json.user).toMatchObject({ email: 'admin@example.com', role: 'admin' });
    expect(r.json.scopes).toEqual(['admin']);
    const s = await call('GET', '/v1/session', { cookie: r.cookie });
    expect(s.status).toBe(200);
    expect(s.json.csrf_token).toBe(r.csrf);
    expect(s.json.account.id).toBe(t.accountId);
    expect((await call('GET', '/v1/session')).status).toBe(401);
    expect((await call('GET', '/v1/session', { cookie: 'tegami_session=forged' })).json.error.code).toBe('E_UNAUTHENTICATED');
    // An API key has no console session.
    expect((await call('GET', '/v1/session', { bearer: t.apiKey })).status).toBe(401);
  });

  it('refuses a wrong password or unknown user with one error, and the session table keeps only a hash of the token', async () => {
    const bad = await login('admin@example.com', 'wrong password!!', '198.51.100.1');
    expect(bad.status).toBe(401);
    expect(bad.json.error.code).toBe('E_LOGIN_FAILED');
    expect(bad.setCookie).toBe('');
    const unknown = await login('nobody@example.com', pw, '198.51.100.2');
    expect(unknown.json.error.code).toBe('E_LOGIN_FAILED');
    const ok = await login('admin@example.com');
    const token = ok.cookie.split('=')[1];
    const rows = await t.db.db.selectFrom('console_sessions').select('id').execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.id === token)).toBe(false);
  });

  it('requires the X-CSRF-Token header on state-changing cookie requests, and writes nothing without it', async () => {
    const s = await login('editor@example.com');
    const before = (await t.api('GET', '/v1/lists')).json.items.length;
    const no = await call('POST', '/v1/lists', { cookie: s.cookie, body: { name: 'csrf-less' } });
    expect(no.status).toBe(403);
    expect(no.json.error.code).toBe('E_CSRF');
    const wrong = await call('POST', '/v1/lists', { cookie: s.cookie, csrf: 'x'.repeat(32), body: { name: 'csrf-wrong' } });
    expect(wrong.json.error.code).toBe('E_CSRF');
    expect((await t.api('GET', '/v1/lists')).json.items.length).toBe(before);
    const ok = await call('POST', '/v1/lists', { cookie: s.cookie, csrf: s.csrf, body: { name: 'csrf-ok' } });
    expect(ok.status).toBe(201);
    // Another session's token does not fit this session.
    const other = await login('admin@example.com');
    expect((await call('POST', '/v1/lists', { cookie: s.cookie, csrf: other.csrf, body: { name: 'csrf-other' } })).json.error.code).toBe('E_CSRF');
  });

  it('enforces roles: viewer reads, editor writes, admin administers', async () => {
    const v = await login('viewer@example.com');
    const e = await login('editor@example.com');
    const a = await login('admin@example.com');
    expect(v.json.scopes).toEqual(['read']);
    expect(e.json.scopes).toEqual(['read', 'write']);
    expect((await call('GET', '/v1/lists', { cookie: v.cookie })).status).toBe(200);
    const vw = await call('POST', '/v1/lists', { cookie: v.cookie, csrf: v.csrf, body: { name: 'by-viewer' } });
    expect(vw.status).toBe(403);
    expect(vw.json.error.code).toBe('E_FORBIDDEN');
    expect((await call('POST', '/v1/lists', { cookie: e.cookie, csrf: e.csrf, body: { name: 'by-editor' } })).status).toBe(201);
    expect((await call('POST', '/v1/api-keys', { cookie: e.cookie, csrf: e.csrf, body: { name: 'k', scopes: ['read'] } })).status).toBe(403);
    expect((await call('GET', '/v1/users', { cookie: e.cookie })).status).toBe(403);
    expect((await call('POST', '/v1/domains', { cookie: e.cookie, csrf: e.csrf, body: { name: 'editor.example' } })).status).toBe(403);
    const key = await call('POST', '/v1/api-keys', { cookie: a.cookie, csrf: a.csrf, body: { name: 'from console', scopes: ['read'] } });
    expect(key.status).toBe(201);
    const keys = await t.api('GET', '/v1/api-keys');
    expect(keys.json.items.find((k: { id: string }) => k.id === key.json.id).created_by).toMatch(/^user:usr_/);
    expect((await call('GET', '/v1/users', { cookie: a.cookie })).json.items.map((u: { email: string }) => u.email)).toEqual(
      expect.arrayContaining(['admin@example.com', 'editor@example.com', 'viewer@example.com']));
  });

  it('logs out: needs the CSRF token, clears the cookie and ends the session', async () => {
    const s = await login('viewer@example.com');
    expect((await call('DELETE', '/v1/session', { cookie: s.cookie })).json.error.code).toBe('E_CSRF');
    expect((await call('GET', '/v1/session', { cookie: s.cookie })).status).toBe(200);
    const out = await call('DELETE', '/v1/session', { cookie: s.cookie, csrf: s.csrf });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^tegami_session=; .*Max-Age=0/);
    expect((await call('GET', '/v1/session', { cookie: s.cookie })).status).toBe(401);
  });

  it('rate-limits failed logins per address and per IP, then lets them through after the window', async () => {
    await t.api('POST', '/v1/users', { email: 'target@example.com', role: 'viewer', password: pw });
    for (let i = 0; i < 3; i++) expect((await login('target@example.com', 'wrong password!!', `203.0.113.${i}`)).status).toBe(401);
    // The right password from a fresh IP is refused too while the address is locked.
    const locked = await login('target@example.com', pw, '203.0.113.50');
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe('E_RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // One IP trying many addresses is stopped as well, even for an address with no failures.
    for (let i = 0; i < 3; i++) await login(`spray${i}@example.com`, 'wrong password!!', '203.0.113.99');
    expect((await login('editor@example.com', pw, '203.0.113.99')).status).toBe(429);
    expect((await login('editor@example.com', pw, '203.0.113.98')).status).toBe(201);
    t.clock.advance(10 * 60_000 + 1);
    expect((await login('target@example.com', pw, '203.0.113.50')).status).toBe(201);
    expect((await login('editor@example.com', pw, '203.0.113.99')).status).toBe(201);
  });

  it('ends sessions on password change and disable, refuses disabled users, keeps the last admin, and expires sessions', async () => {
    const created = await t.api('POST', '/v1/users', { email: 'temp@example.com', role: 'editor' });
    expect(created.json.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const s = await login('temp@example.com', created.json.password);
    expect(s.status).toBe(201);
    expect((await t.api('PATCH', `/v1/users/${created.json.id}`, { password: 'short' })).json.error.code).toBe('E_VALIDATION');
    expect((await t.api('PATCH', `/v1/users/${created.json.id}`, { password: 'a brand new password' })).status).toBe(200);
    expect((await call('GET', '/v1/session', { cookie: s.cookie })).status).toBe(401);
    expect((await login('temp@example.com', created.json.password)).status).toBe(401);
    const s2 = await login('temp@example.com', 'a brand new password');
    expect(s2.status).toBe(201);
    expect((await t.api('PATCH', `/v1/users/${created.json.id}`, { disabled: true })).json.disabled_at).toBeTypeOf('number');
    expect((await call('GET', '/v1/session', { cookie: s2.cookie })).status).toBe(401);
    expect((await login('temp@example.com', 'a brand new password')).json.error.code).toBe('E_LOGIN_FAILED');
    const admins = (await t.api('GET', '/v1/users')).json.items.filter((u: { role: string }) => u.role === 'admin');
    expect(admins).toHaveLength(1);
    const last = await t.api('PATCH', `/v1/users/${admins[0].id}`, { disabled: true });
    expect(last.status).toBe(409);
    expect((await t.api('PATCH', `/v1/users/${admins[0].id}`, { role: 'viewer' })).json.error.code).toBe('E_STATE');
    expect((await t.api('POST', '/v1/users', { email: 'admin@example.com', role: 'viewer', password: pw })).json.error.code).toBe('E_CONFLICT');
    expect((await t.api('POST', '/v1/users', { email: 'x@example.com', role: 'owner', password: pw })).status).toBe(400);
    const s3 = await login('viewer@example.com');
    t.clock.advance(12 * 3_600_000 + 1);
    expect((await call('GET', '/v1/session', { cookie: s3.cookie })).status).toBe(401);
  });

  it('lets a user change their own password with the current one; all their sessions end', async () => {
    await t.api('POST', '/v1/users', { email: 'self@example.com', role: 'viewer', password: pw });
    const s = await login('self@example.com');
    const other = await login('self@example.com');
    const body = (current: string, password: string) => ({ current, password });
    expect((await call('POST', '/v1/session/password', { cookie: s.cookie, body: body(pw, 'my new password 1') })).json.error.code).toBe('E_CSRF');
    expect((await call('POST', '/v1/session/password', { cookie: s.cookie, csrf: s.csrf, body: body('wrong current pw', 'my new password 1') })).json.error.code).toBe('E_LOGIN_FAILED');
    expect((await call('POST', '/v1/session/password', { cookie: s.cookie, csrf: s.csrf, body: body(pw, 'short') })).status).toBe(400);
    expect((await call('POST', '/v1/session/password', { bearer: t.apiKey, body: body(pw, 'my new password 1') })).status).toBe(401);
    const ok = await call('POST', '/v1/session/password', { cookie: s.cookie, csrf: s.csrf, body: body(pw, 'my new password 1') });
    expect(ok.status).toBe(204);
    expect(String(ok.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await call('GET', '/v1/session', { cookie: s.cookie })).status).toBe(401);
    expect((await call('GET', '/v1/session', { cookie: other.cookie })).status).toBe(401);
    expect((await login('self@example.com')).status).toBe(401);
    expect((await login('self@example.com', 'my new password 1')).status).toBe(201);
  });

  it('isolates accounts: another account\'s user is 404 and its session sees only its own data', async () => {
    const other = await t.core.accounts.createAccount('Other');
    const u = await t.core.consoleUsers.add(other.id, { email: 'other-admin@example.com', role: 'admin', password: pw });
    expect((await t.api('PATCH', `/v1/users/${u.user.id}`, { disabled: true })).status).toBe(404);
    const s = await login('other-admin@example.com');
    expect((await call('GET', '/v1/lists', { cookie: s.cookie })).json.items).toEqual([]);
    expect((await call('GET', '/v1/users', { cookie: s.cookie })).json.items.map((x: { email: string }) => x.email)).toEqual(['other-admin@example.com']);
  });

  it('previews a campaign with its list headers and sends a test copy', async () => {
    expect((await t.api('POST', '/v1/domains', { name: 'example.com' })).status).toBe(201);
    const list = await seedList(t.db.db, t.accountId, 'Preview news', ['a@example.net']);
    const c = await t.api('POST', '/v1/campaigns', { name: 'P', list_ids: [list.id], from: 'news@example.com', subject: 'Hi {{ name }}', html: '<p>Hello {{ email }}</p><a href="{{ unsubscribe_url }}">unsubscribe</a>' });
    expect(c.status).toBe(201);
    const p = await t.api('GET', `/v1/campaigns/${c.json.id}/preview?email=tanaka@example.net`);
    expect(p.status).toBe(200);
    expect(p.json.html).toContain('Hello tanaka@example.net');
    expect(p.json.subject).toBe('Hi');
    expect(p.json.contact_id).toBeNull();
    expect(p.json.html).toContain('https://mail.tegami.test/u/TOKEN');
    // A contact previews with its own attributes.
    const pc = await t.api('GET', `/v1/campaigns/${c.json.id}/preview?email=A@example.net`);
    expect(pc.json.subject).toBe('Hi Name 0');
    expect(pc.json.contact_id).toBeTypeOf('number');
    const names = p.json.headers.map((h: { name: string }) => h.name.toLowerCase());
    expect(names).toEqual(expect.arrayContaining(['from', 'to', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'feedback-id']));
    const test = await t.api('POST', `/v1/campaigns/${c.json.id}/test`, { to: ['tester@example.net'] });
    expect(test.status).toBe(202);
    expect(test.json.messages[0]).toMatchObject({ to: 'tester@example.net', status: 'queued' });
    expect((await t.api('POST', `/v1/campaigns/cmp_nope/test`, { to: ['tester@example.net'] })).status).toBe(404);
    expect((await t.api('GET', `/v1/campaigns/${c.json.id}/held`)).json).toEqual({ reasons: {} });
    // Another account's campaign is not found through any of these routes.
    const other = await t.core.accounts.createAccount('Other preview');
    const key = await t.core.accounts.createApiKey(other.id, 'k', ['admin']);
    for (const [m, u] of [['GET', 'preview'], ['GET', 'held'], ['POST', 'test']] as const) {
      const r = await t.http!.inject({ method: m, url: `/v1/campaigns/${c.json.id}/${u}`, headers: { authorization: `Bearer ${key.key}` }, payload: m === 'POST' ? { to: ['x@example.net'] } : undefined });
      expect(r.statusCode, u).toBe(404);
    }
  });
});

describe.each(DIALECTS)('first start on %s', (dialect) => {
  it('creates an admin console user whose printed password logs in; an http public URL gets no Secure flag', async () => {
    const db = await createTestDb(dialect);
    const config = defaultConfig();
    config.log.level = 'silent';
    config.http.publicUrl = 'http://localhost:8025';
    const app = await createApp(config, ['api'], { store: db, clock: new ManualClock(Date.now()), log: pino({ level: 'silent' }), masterKey: randomBytes(32), listen: false });
    try {
      const b = await bootstrap(app.core);
      expect(b.created).toBe(true);
      const r = await app.http!.inject({ method: 'POST', url: '/v1/session', payload: b.login! });
      expect(r.statusCode).toBe(201);
      expect(r.json().user.role).toBe('admin');
      expect(String(r.headers['set-cookie'])).not.toContain('Secure');
      const root = await app.http!.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
      expect(root.statusCode).toBe(302);
      expect(root.headers.location).toBe('/console/');
      const trav = await app.http!.inject({ method: 'GET', url: '/console/..%2f..%2f..%2fpackage.json' });
      expect(trav.body).not.toContain('"dependencies"');
      expect((await app.http!.inject({ method: 'GET', url: '/console/assets/nope.js' })).statusCode).toBe(404);
    } finally {
      await app.stop();
      await db.cleanup();
    }
  });
});

describe('console static files', () => {
  it('serves only files inside the build directory', async () => {
    const { resolveStatic } = await import('../src/http/console/static.js');
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const root = mkdtempSync(join(tmpdir(), 'tegami-static-'));
    const dist = join(root, 'dist') + '/';
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html>');
    writeFileSync(join(dist, 'assets', 'app-1.js'), 'x');
    writeFileSync(join(root, 'secret.txt'), 'no');
    expect(resolveStatic(dist, 'assets/app-1.js')).toMatchObject({ type: 'text/javascript; charset=utf-8', immutable: true, size: 1 });
    expect(resolveStatic(dist, 'index.html')).toMatchObject({ immutable: false });
    for (const bad of ['../secret.txt', 'assets/../../secret.txt', '/etc/passwd', 'assets', 'missing.js', 'a\0b']) expect(resolveStatic(dist, bad), bad).toBeNull();
  });
});
