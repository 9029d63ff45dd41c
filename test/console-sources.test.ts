import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DICT } from '../src/console/src/i18n-dict.js';

const ROOT = 'src/console/src';
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));

describe('console sources', () => {
  // The root tsconfig leaves src/console out (DOM and JSX settings differ) and vite build does not type-check.
  it('type-check with the console tsconfig', () => {
    const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/console/tsconfig.json'], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);
});

describe('console strings in English and Japanese (issue 8 item 9)', () => {
  const sources = files(ROOT).map((f) => readFileSync(f, 'utf8')).join('\n');

  it('has both languages for every key the screens use', () => {
    const used = new Set([...sources.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThan(150);
    const missing = [...used].filter((k) => !DICT[k] || !DICT[k][0] || !DICT[k][1]);
    expect(missing).toEqual([]);
  });

  it('translates the values the API returns and the screens show through prefixed keys', () => {
    const values: Record<string, string[]> = {
      'status.': ['draft', 'scheduled', 'planning', 'running', 'sent', 'paused', 'cancelled', 'queued', 'deferred', 'bounced', 'failed', 'skipped', 'subscribed', 'unsubscribed', 'pending'],
      'reason.': ['unsubscribe', 'complaint', 'hard_bounce', 'soft_bounce_limit', 'manual', 'invalid'],
      'role.': ['admin', 'editor', 'viewer'],
      'cat.': ['subscription', 'transactional'],
      'sup.action.': ['add', 'remove'],
      'cmp.r.': ['planned', 'sent', 'queued', 'deferred', 'bounced', 'failed', 'paused', 'skipped'],
      'dmarc.action.': ['move', 'wait', 'fix', 'keep'],
    };
    const missing = Object.entries(values).flatMap(([p, vs]) => vs.map((v) => p + v)).filter((k) => !DICT[k]);
    expect(missing).toEqual([]);
  });

  it('is really Japanese on the Japanese side', () => {
    const entries = Object.entries(DICT);
    const japanese = entries.filter(([, [, ja]]) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(ja));
    expect(japanese.length / entries.length).toBeGreaterThan(0.9);
    for (const [k, [en, ja]] of entries) {
      const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(vars(ja), k).toEqual(vars(en));
    }
  });
});
