import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fail } from '../domain/errors.js';
import type { Config } from './schema.js';

/**
 * The master key that encrypts secrets at rest (DKIM private keys, SMTP passwords). It lives
 * outside the database: in `masterKey` (env/secret store) or the `masterKeyFile` (mode 0600).
 */
export function loadMasterKey(cfg: Config, opts: { create?: boolean } = {}): Buffer {
  if (cfg.masterKey) return decode(cfg.masterKey, 'masterKey');
  if (existsSync(cfg.masterKeyFile)) return decode(readFileSync(cfg.masterKeyFile, 'utf8').trim(), cfg.masterKeyFile);
  if (!opts.create) fail('E_MASTER_KEY', `master key file ${cfg.masterKeyFile} not found: run \`tegami init\``);
  const key = randomBytes(32);
  mkdirSync(dirname(cfg.masterKeyFile), { recursive: true });
  writeFileSync(cfg.masterKeyFile, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

function decode(b64: string, where: string): Buffer {
  const k = Buffer.from(b64, 'base64');
  if (k.length !== 32) fail('E_MASTER_KEY', `${where}: the master key must be 32 bytes, base64`);
  return k;
}
