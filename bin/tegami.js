#!/usr/bin/env node
// Package binary. Runs the compiled dist/ when `npm run build` produced an up-to-date build
// (smaller and faster to start: no TypeScript loader thread), else the TypeScript sources
// through tsx's ESM loader, so an installed checkout needs no build step.
import { runFrom } from '../src/app/run-from.mjs';

const root = new URL('..', import.meta.url);
if (runFrom(root.pathname) === 'dist') {
  await import(new URL('dist/src/cli/main.js', root).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
