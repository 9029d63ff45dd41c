import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isTegamiError, type ErrorKind } from '../domain/errors.js';

/** The one mapping from error kinds to HTTP status (DESIGN convention 5). */
export const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  upstream: 502,
};

/** Turns any thrown error into `{ error: { code, message } }` with the mapped status. */
export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (isTegamiError(err)) {
    const body: Record<string, unknown> = { code: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    if (STATUS[err.kind] >= 500) req.log.error({ err }, 'request failed');
    return reply.status(STATUS[err.kind]).send({ error: body });
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    return reply.status(400).send({ error: { code: 'E_VALIDATION', message: fe.message } });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.status(413).send({ error: { code: 'E_TOO_LARGE', message: 'The request body is too large' } });
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.status(fe.statusCode).send({ error: { code: 'E_VALIDATION', message: fe.message } });
  }
  req.log.error({ err }, 'request failed');
  return reply.status(500).send({ error: { code: 'E_INTERNAL', message: 'Internal error' } });
}
