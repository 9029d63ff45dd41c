import { existsSync, readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse as parseToml } from 'smol-toml';
import { fail } from '../domain/errors.js';
import { defaultConfig } from './defaults.js';
import { ConfigSchema, type Config } from './schema.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Obj, over: Obj, path: string[] = []): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) fail('E_CONFIG', `unknown configuration key ${[...path, k].join('.')}`);
    out[k] = isObj(base[k]) && isObj(v) ? merge(base[k] as Obj, v, [...path, k]) : v;
  }
  return out;
}

/** `http.publicUrl` -> `TEGAMI_HTTP_PUBLIC_URL` */
export function envName(path: string[]): string {
  return 'TEGAMI_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function leaves(o: Obj, path: string[] = []): Array<{ path: string[]; value: unknown }> {
  return Object.entries(o).flatMap(([k, v]) => (isObj(v) ? leaves(v, [...path, k]) : [{ path: [...path, k], value: v }]));
}

function setPath(o: Obj, path: string[], value: unknown): void {
  let cur = o;
  for (const p of path.slice(0, -1)) cur = (cur[p] ??= {}) as Obj;
  cur[path[path.length - 1]] = value;
}

function coerce(sample: unknown, raw: string, name: string): unknown {
  if (typeof sample === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) fail('E_CONFIG', `${name} must be a number`);
    return n;
  }
  if (typeof sample === 'boolean') {
    if (!/^(true|false|1|0)$/i.test(raw)) fail('E_CONFIG', `${name} must be true or false`);
    return /^(true|1)$/i.test(raw);
  }
  return raw;
}

/** Options for loadConfig; `env` and `flags` are passed in so tests need no process state. */
export interface LoadOptions {
  file?: string;
  env?: Record<string, string | undefined>;
  /** Dotted paths -> values, e.g. { 'http.port': 0 } */
  flags?: Record<string, unknown>;
}

/**
 * Loads the configuration once: defaults < tegami.toml < TEGAMI_* env < flags.
 * The only reader of process.env (DESIGN: config/).
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const defaults = defaultConfig() as unknown as Obj;
  let cfg: Obj = defaults;
  const file = opts.file ?? env.TEGAMI_CONFIG ?? 'tegami.toml';
  if (existsSync(file)) {
    let parsed: Obj;
    try {
      parsed = parseToml(readFileSync(file, 'utf8')) as Obj;
    } catch (e) {
      fail('E_CONFIG', `${file}: ${(e as Error).message}`);
    }
    cfg = merge(cfg, parsed);
  } else if (opts.file || env.TEGAMI_CONFIG) {
    fail('E_CONFIG', `configuration file ${file} not found`);
  }
  const fromEnv: Obj = {};
  for (const { path, value } of leaves(defaults)) {
    const name = envName(path);
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(fromEnv, path, coerce(value, raw, name));
  }
  cfg = merge(cfg, fromEnv);
  const fromFlags: Obj = {};
  for (const [k, v] of Object.entries(opts.flags ?? {})) if (v !== undefined) setPath(fromFlags, k.split('.'), v);
  cfg = merge(cfg, fromFlags);
  if (!Value.Check(ConfigSchema, cfg)) {
    const first = [...Value.Errors(ConfigSchema, cfg)][0];
    fail('E_CONFIG', `configuration ${first?.path ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return cfg as unknown as Config;
}

const SECRET_KEY = /(pass|password|secret|masterKey|token)$/i;

/** A copy of the config with secrets replaced, for `tegami config show`. */
export function redactConfig(cfg: Config): Obj {
  const walk = (o: Obj): Obj =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => {
        if (isObj(v)) return [k, walk(v)];
        if (typeof v === 'string' && v && SECRET_KEY.test(k)) return [k, '***'];
        if (typeof v === 'string' && /^[a-z]+:\/\/[^/]*:[^@/]*@/i.test(v)) return [k, v.replace(/:\/\/([^:/]*):[^@/]*@/, '://$1:***@')];
        return [k, v];
      }),
    );
  return walk(cfg as unknown as Obj);
}

/** A password given for `tegami user create` through TEGAMI_NEW_PASSWORD (kept out of argv and shell history). */
export function newUserPasswordFromEnv(env: Record<string, string | undefined> = process.env): string | undefined {
  return env.TEGAMI_NEW_PASSWORD || undefined;
}
