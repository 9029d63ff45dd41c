// Builds the console when dist/console is missing or older than its sources (run by `npm start`
// through prestart, and by the browser tests). `--force` always builds.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestMtime } from '../app/run-from.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const index = fileURLToPath(new URL('../../dist/console/index.html', import.meta.url));

export function isStale() {
  return !existsSync(index) || statSync(index).mtimeMs < newestMtime(here);
}

export async function ensureBuilt(force = false) {
  if (!force && !isStale()) return false;
  const { build } = await import('vite');
  process.stderr.write('building the web console (vite build)…\n');
  await build({ configFile: join(here, 'vite.config.ts') });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureBuilt(process.argv.includes('--force')).catch((err) => {
    process.stderr.write(`console build failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
