import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Deps } from '../app/deps.js';
import type { Core } from '../core/index.js';
import type { Metrics } from './metrics.js';

/** The Fastify instance with TypeBox schemas as types. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What every route module receives. */
export interface RouteContext {
  core: Core;
  deps: Deps;
  metrics: Metrics;
}

/** A route module: registers the routes of one resource. */
export type RouteModule = (app: App, ctx: RouteContext) => void | Promise<void>;
