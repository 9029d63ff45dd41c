// Decides whether the CLI runs the compiled dist/ or the TypeScript sources (through tsx):
// dist/ when `npm run build` left a BUILD-STAMP newer than every file under src/ (the console
// excepted, it has its own build). A stale or missing build never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The newest modification time (ms) of any file under `dir`, skipping directories named `skip`. */
export function newestMtime(dir, skip) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== skip) t = Math.max(t, newestMtime(p, skip)); } else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** 'dist' or 'src' for a package root; TEGAMI_RUN_FROM=src|dist overrides. */
export function runFrom(root) {
  const forced = process.env.TEGAMI_RUN_FROM;
  if (forced === 'src' || forced === 'dist') return forced;
  const stamp = join(root, 'dist/BUILD-STAMP');
  if (!existsSync(stamp) || !existsSync(join(root, 'dist/src/cli/main.js'))) return 'src';
  return statSync(stamp).mtimeMs >= newestMtime(join(root, 'src'), 'console') ? 'dist' : 'src';
}
