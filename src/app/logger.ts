import pino, { type Logger } from 'pino';
import type { Config } from '../config/schema.js';

/** JSON logs (pino) that carry ids, never bodies or secrets (DESIGN convention 11). */
export function createLogger(cfg: Pick<Config, 'log'>): Logger {
  return pino({
    level: cfg.log.level,
    base: { service: 'tegami' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.pass', '*.key', '*.secret'], censor: '***' },
  });
}
