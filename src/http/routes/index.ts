import type { RouteModule } from '../types.js';
import { apiKeyRoutes } from './api-keys.js';
import { campaignRoutes } from './campaigns.js';
import { capturedRoutes } from './captured.js';
import { contactRoutes } from './contacts.js';
import { listRoutes } from './lists.js';
import { domainRoutes } from './domains.js';
import { messageRoutes } from './messages.js';
import { systemRoutes } from './system.js';
import { suppressionRoutes } from './suppressions.js';
import { templateRoutes } from './templates.js';
import { unsubscribeRoutes } from './unsubscribe-pages.js';

/** Every route module; add one line per resource. */
export const ROUTES: RouteModule[] = [
  systemRoutes,
  apiKeyRoutes,
  domainRoutes,
  listRoutes,
  contactRoutes,
  templateRoutes,
  messageRoutes,
  campaignRoutes,
  capturedRoutes,
  suppressionRoutes,
  unsubscribeRoutes,
];
