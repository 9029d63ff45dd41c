// Boots a worker thread's module. Threads do not inherit tsx's loader: from the compiled dist/
// the module's .js sits beside the boot file and needs none; from the sources, tsx is registered
// in the thread first. Shared by every *-thread-boot.mjs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Imports `./NAME.js` next to `base` when it exists (compiled), else `./NAME.ts` through tsx. */
export async function bootThread(base, name) {
  const compiled = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(compiled))) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`./${name}.ts`, base).href);
}
