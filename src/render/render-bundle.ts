import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let script: Promise<URL> | null = null;

/**
 * The render thread as one plain ES module. Threads do not inherit tsx's loader, and booting tsx
 * in every thread costs ~45 MB and a TypeScript transform per module (bench/README.md). So the
 * thread's code (render-thread.ts, its imports and the libraries it uses) is bundled once per
 * process with esbuild (tsx's own compiler) and cached in the temp directory under a content
 * hash: a changed source gives a new file, an unchanged one reuses the old.
 */
export function renderThreadScript(): Promise<URL> {
  script ??= (async () => {
    const { build } = await import('esbuild');
    const entry = fileURLToPath(new URL('./render-thread.ts', import.meta.url));
    const out = await build({
      entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
      // Bundled CommonJS libraries require Node built-ins; give the module a real `require`.
      banner: { js: "import { createRequire as __tegamiRequire } from 'node:module'; const require = __tegamiRequire(import.meta.url);" },
    });
    const code = out.outputFiles[0].contents;
    const file = join(tmpdir(), `tegami-render-${createHash('sha256').update(code).digest('hex').slice(0, 20)}.mjs`);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    }
    return pathToFileURL(file);
  })();
  // A failed build is retried by the next pool rather than remembered.
  script.catch(() => { script = null; });
  return script;
}
