// Decides whether the CLI runs the compiled dist/ or the TypeScript sources (through tsx):
// dist/ when `npm run build` left a BUILD-STAMP newer than every file under src/ (the console
// excepted, it has its own build). A stale or missing build never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) { if (e.name !== 'console') t = Math.max(t, newest(join(dir, e.name))); } else t = Math.max(t, statSync(join(dir, e.name)).mtimeMs);
  }
  return t;
}

/** 'dist' or 'src' for a package root; TEGAMI_RUN_FROM=src|dist overrides. */
export function runFrom(root) {
  const forced = process.env.TEGAMI_RUN_FROM;
  if (forced === 'src' || forced === 'dist') return forced;
  const stamp = join(root, 'dist/BUILD-STAMP');
  if (!existsSync(stamp) || !existsSync(join(root, 'dist/src/cli/main.js'))) return 'src';
  return statSync(stamp).mtimeMs >= newest(join(root, 'src')) ? 'dist' : 'src';
}
