// `npm run build`: compiles src/ (and bench/, test/) to dist/ with tsc, copies the non-TypeScript
// files the code reads at run time (bounce rule tables, thread boot files), and writes
// dist/BUILD-STAMP. bin/tegami.js runs dist/ while the stamp is newer than every file under src/;
// otherwise it falls back to the TypeScript sources through tsx (docs/operations.md).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'console') yield* files(p); } else yield p;
  }
}
let copied = 0;
for (const f of files(join(root, 'src'))) {
  if (f.endsWith('.ts')) continue;
  const to = join(root, 'dist', relative(root, f));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
  copied++;
}
writeFileSync(join(root, 'dist/BUILD-STAMP'), `${new Date().toISOString()}\n`);
process.stdout.write(`built dist/ (${copied} asset files copied)\n`);
