import type { RouteModule } from '../types.js';
import { apiKeyRoutes } from './api-keys.js';
import { systemRoutes } from './system.js';

/** Every route module; add one line per resource. */
export const ROUTES: RouteModule[] = [
  systemRoutes,
  apiKeyRoutes,
];
