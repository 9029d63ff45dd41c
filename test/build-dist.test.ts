import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs helper without types (also used by bin/tegami.js before any loader)
import { runFrom } from '../src/app/run-from.mjs';
import { SERVICES } from '../src/app/services.js';

const tmp = mkdtempSync(join(tmpdir(), 'tegami-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake package root: src/ with one file, optionally dist/ with a stamp, at given mtimes (s). */
function fakeRoot(name: string, srcAt: number, stampAt: number | null): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  writeFileSync(join(root, 'src/cli/main.ts'), '');
  utimesSync(join(root, 'src/cli/main.ts'), srcAt, srcAt);
  if (stampAt !== null) {
    mkdirSync(join(root, 'dist/src/cli'), { recursive: true });
    writeFileSync(join(root, 'dist/src/cli/main.js'), '');
    writeFileSync(join(root, 'dist/BUILD-STAMP'), '');
    utimesSync(join(root, 'dist/BUILD-STAMP'), stampAt, stampAt);
  }
  return root;
}

describe('compiled build (npm run build) and which one bin/tegami.js runs', () => {
  it('runs dist/ only while its stamp is newer than every source file', () => {
    delete process.env.TEGAMI_RUN_FROM;
    expect(runFrom(fakeRoot('none', 1000, null))).toBe('src');
    expect(runFrom(fakeRoot('fresh', 1000, 2000))).toBe('dist');
    expect(runFrom(fakeRoot('stale', 3000, 2000))).toBe('src');
    process.env.TEGAMI_RUN_FROM = 'src';
    try {
      expect(runFrom(fakeRoot('forced', 1000, 2000))).toBe('src');
    } finally {
      delete process.env.TEGAMI_RUN_FROM;
    }
  });

  it('builds dist/ with its run-time files, and the compiled CLI migrates a database', () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(build.stdout).toMatch(/built dist\/ \(\d+ asset files copied\)/);
    const db = join(tmp, 'dist.db');
    const r = spawnSync(process.execPath, ['bin/tegami.js', '--database', `sqlite:${db}`, 'migrate'], {
      encoding: 'utf8', env: { ...process.env, TEGAMI_RUN_FROM: 'dist', TEGAMI_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') },
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const tables = new Database(db, { readonly: true }).prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['messages', 'suppressions', 'suppression_history']));
  });

  it('lazy services keep the name and roles of the module they load', async () => {
    const mods = [
      (await import('../src/inbound/relay/service.js')).relayService,
      (await import('../src/webhooks/service.js')).webhookService,
      (await import('../src/compliance/service.js')).complianceService,
    ];
    expect(SERVICES.map((s) => [s.name, s.roles])).toEqual(mods.map((s) => [s.name, s.roles]));
  });
});
