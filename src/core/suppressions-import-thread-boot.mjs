// Boots a suppression-import parse thread: threads do not inherit the TypeScript loader, so
// register it here. From the compiled dist/ the .js module sits beside this file and needs no loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./suppressions-import-thread.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./suppressions-import-thread.ts');
}
