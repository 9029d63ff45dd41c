import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cli } from './helpers/cli.js';
import { DIALECTS } from './helpers/dialects.js';

describe.each(DIALECTS)('tegami users on %s (issue 8)', (dialect) => {
  let t: TestApp;
  const login = async (email: string, password: string) =>
    (await t.http!.inject({ method: 'POST', url: '/v1/session', payload: { email, password } })).statusCode;

  beforeAll(async () => { t = await createTestApp(dialect); });
  afterAll(async () => { await t?.close(); });

  it('adds, lists, re-keys, changes the role of, and disables console users', async () => {
    const add = await cli(t, ['--json', 'users', 'add', 'ops@example.com', '--role', 'editor']);
    expect(add.code, add.stderr).toBe(0);
    const created = JSON.parse(add.stdout);
    expect(created).toMatchObject({ email: 'ops@example.com', role: 'editor' });
    expect(created.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await login('ops@example.com', created.password)).toBe(201);

    const ls = await cli(t, ['--json', 'users', 'ls']);
    expect(JSON.parse(ls.stdout).map((u: { email: string }) => u.email)).toEqual(['ops@example.com']);
    expect(ls.stdout).not.toContain('password_hash');

    const pw = await cli(t, ['--json', 'users', 'passwd', 'ops@example.com']);
    expect(pw.code, pw.stderr).toBe(0);
    const fresh = JSON.parse(pw.stdout).password;
    expect(fresh).not.toBe(created.password);
    expect(await login('ops@example.com', created.password)).toBe(401);
    expect(await login('ops@example.com', fresh)).toBe(201);

    const off = await cli(t, ['--json', 'users', 'disable', 'ops@example.com']);
    expect(JSON.parse(off.stdout).disabled_at).toBeTypeOf('number');
    expect(await login('ops@example.com', fresh)).toBe(401);
    const role = await cli(t, ['--json', 'users', 'role', 'ops@example.com', 'viewer']);
    expect(JSON.parse(role.stdout)).toMatchObject({ role: 'viewer', disabled_at: expect.any(Number) });
  }, 180_000);

  it('refuses bad input with its code and writes nothing', async () => {
    const bad = await cli(t, ['users', 'add', 'x@example.com', '--role', 'owner']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('E_VALIDATION');
    const dup = await cli(t, ['users', 'add', 'OPS@example.com', '--password', 'a long enough password']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('E_CONFLICT');
    const users = (await t.api('GET', '/v1/users')).json.items.map((u: { email: string }) => u.email).sort();
    expect(users).toEqual(['ops@example.com']);
  }, 120_000);
});
