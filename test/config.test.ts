import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, loadConfig, redactConfig } from '../src/config/load.js';

describe('configuration: defaults < tegami.toml < TEGAMI_* env < flags (issue 2 item 3)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tegami-cfg-'));
  const file = join(dir, 'tegami.toml');
  writeFileSync(file, '[http]\nport = 9000\npublicUrl = "https://mail.example.com"\n[transport.smtp]\npass = "s3cret"\n[database]\nurl = "postgres://u:pw@db/tegami"\n');

  it('layers the sources in order', () => {
    expect(loadConfig({ file: '/nonexistent-but-default.toml'.replace('/nonexistent-but-default.toml', file), env: {} }).http.port).toBe(9000);
    expect(loadConfig({ file, env: { TEGAMI_HTTP_PORT: '9100' } }).http.port).toBe(9100);
    expect(loadConfig({ file, env: { TEGAMI_HTTP_PORT: '9100' }, flags: { 'http.port': 9200 } }).http.port).toBe(9200);
    expect(loadConfig({ env: {} , file: undefined }).transport.kind).toBe('capture');
    expect(envName(['transport', 'smtp', 'requireTls'])).toBe('TEGAMI_TRANSPORT_SMTP_REQUIRE_TLS');
    expect(loadConfig({ file, env: { TEGAMI_TRANSPORT_SMTP_REQUIRE_TLS: 'false' } }).transport.smtp.requireTls).toBe(false);
  });

  it('rejects unknown keys, bad values and a missing explicit file with E_CONFIG', () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[http]\nprot = 1\n');
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => loadConfig({ file, env: { TEGAMI_HTTP_PORT: 'eighty' } })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => loadConfig({ file, env: { TEGAMI_TRANSPORT_KIND: 'carrier-pigeon' } })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => loadConfig({ file: join(dir, 'missing.toml'), env: {} })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('redacts secrets for `tegami config show`', () => {
    const shown = JSON.stringify(redactConfig(loadConfig({ file, env: { TEGAMI_MASTER_KEY: 'a'.repeat(44) } })));
    expect(shown).not.toContain('s3cret');
    expect(shown).not.toContain(':pw@');
    expect(shown).not.toContain('a'.repeat(44));
    expect(shown).toContain('postgres://u:***@db/tegami');
  });
});
