import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';

/** The process logger: JSON lines on stdout; secrets redacted wherever they appear. */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'password', '*.password', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
