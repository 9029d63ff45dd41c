import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `vite build` writes the console (see src/console/vite.config.ts). */
// From src/http/console (tsx) or dist/src/http/console (compiled): the package root's dist/console.
const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/src/') ? '../../../../' : '../../../', import.meta.url));
export const CONSOLE_DIST = join(ROOT, 'dist/console/');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
};

/** A file of the built console to send, or null (then the SPA's index.html answers). */
export interface StaticFile {
  path: string;
  type: string;
  size: number;
  /** Hashed asset names never change content: cache them for a year. */
  immutable: boolean;
}

/** Resolves `/console/<rest>` to a file inside the build directory; never outside it (`..` is normalised away first). */
export function resolveStatic(dist: string, rest: string): StaticFile | null {
  // `rest` is the router's already-decoded wildcard: decoding again would turn %25 into %.
  const rel = rest;
  if (rel.includes('\0')) return null;
  const full = normalize(join(dist, rel));
  if (!full.startsWith(dist.endsWith(sep) ? dist : dist + sep)) return null;
  if (!existsSync(full)) return null;
  const st = statSync(full);
  if (!st.isFile()) return null;
  const ext = extname(full).toLowerCase();
  return { path: full, type: TYPES[ext] ?? 'application/octet-stream', size: st.size, immutable: rel.startsWith('assets/') };
}

/** The SPA entry, or null when the console has not been built. */
export function indexFile(dist: string): StaticFile | null {
  return resolveStatic(dist, 'index.html');
}

/** A read stream of a resolved file. */
export const openStatic = (f: StaticFile) => createReadStream(f.path);

/** Content-Security-Policy of the console: only its own scripts; previews render in sandboxed frames. */
export const CONSOLE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "frame-src 'self' about:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
].join('; ');
