import { Liquid } from 'liquidjs';
import { fail } from '../domain/errors.js';

const engine = new Liquid({ strictFilters: true });

/** Parses a liquid template to reject syntax errors at save time with E_TEMPLATE. */
export function checkTemplateSyntax(field: string, source: string): void {
  try {
    engine.parse(source);
  } catch (e) {
    fail('E_TEMPLATE', `${field}: ${(e as Error).message.split('\n')[0]}`, { field });
  }
}
