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
import { bounceRoutes } from './bounces.js';
import { dmarcRoutes } from './dmarc.js';
import { relayRoutes } from './relay.js';
import { webhookRoutes } from './webhooks.js';
import { complianceRoutes } from './compliance.js';
import { consoleRoutes } from './console.js';
import { userRoutes } from './users.js';
import { campaignPreviewRoutes } from './campaign-preview.js';

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
  bounceRoutes,
  dmarcRoutes,
  relayRoutes,
  webhookRoutes,
  complianceRoutes,
  consoleRoutes,
  userRoutes,
  campaignPreviewRoutes,
];
