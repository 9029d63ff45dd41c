import { createRequire } from 'node:module';
import type { Liquid } from 'liquidjs';
import { fail } from '../domain/errors.js';

let engine: Liquid | null = null;

/**
 * liquidjs loads on the first check (an API save), not in every process that imports the core:
 * a sending worker renders in its render threads and never needs it on the main thread.
 */
function liquid(): Liquid {
  if (!engine) {
    const { Liquid: Engine } = createRequire(import.meta.url)('liquidjs') as typeof import('liquidjs');
    engine = new Engine({ strictFilters: true });
  }
  return engine;
}

/** Parses a liquid template to reject syntax errors at save time with E_TEMPLATE. */
export function checkTemplateSyntax(field: string, source: string): void {
  try {
    liquid().parse(source);
  } catch (e) {
    fail('E_TEMPLATE', `${field}: ${(e as Error).message.split('\n')[0]}`, { field });
  }
}
