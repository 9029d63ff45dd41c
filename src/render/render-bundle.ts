import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let script: Promise<URL> | null = null;

/**
 * Libraries the render thread's imports require but never call while composing and signing:
 * mailauth's tools.js builds one Joi schema at load (used only to validate DNS public keys), and
 * libmime loads iconv-lite and encoding-japanese for charset decoding (the thread only folds
 * header lines). Together they were 1.2 MB of the 2.2 MB bundle, parsed again in every thread.
 * In the bundle they are a stub that allows the load-time chain (`Joi.string().base64()`) and
 * throws if anything is ever really used, so a future use fails loudly instead of silently.
 */
export const THREAD_STUBBED = ['joi', 'iconv-lite', 'encoding-japanese'];
export const THREAD_STUB_SOURCE = `const used = (name) => () => { throw new Error('render thread: ' + name + ' is stubbed out of the bundle (src/render/render-bundle.ts)'); };
const USED = new Set(['validate', 'attempt', 'assert', 'decode', 'encode', 'convert', 'getStream', 'encodingExists', 'detect']);
const chain = new Proxy(function () {}, {
  get: (_t, k) => (k === '__esModule' ? false : typeof k === 'string' && USED.has(k) ? used(k) : chain),
  apply: () => chain,
});
module.exports = chain;`;
const stubPlugin = {
  name: 'tegami-thread-stubs',
  setup(b: { onResolve: Function; onLoad: Function }) {
    b.onResolve({ filter: new RegExp(`^(${THREAD_STUBBED.join('|')})$`) }, (a: { path: string }) => ({ path: a.path, namespace: 'tegami-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'tegami-stub' }, () => ({ contents: THREAD_STUB_SOURCE, loader: 'js' }));
  },
};

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
    // From the sources (tsx) the entry is the .ts file; from the compiled dist/ the .js beside this one.
    const entry = fileURLToPath(new URL(`./render-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
    const out = await build({
      entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
      plugins: [stubPlugin as never],
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
