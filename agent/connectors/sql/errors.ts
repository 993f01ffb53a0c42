import { redactUrl } from '../../config/index.ts';
import { ConnectorError } from '../errors.ts';

const isPostgresError = (e: unknown): e is Error & { code: string } =>
  e instanceof Error &&
  e.name === 'PostgresError' &&
  typeof (e as { code?: unknown }).code === 'string';

const AUTH = new Set(['28P01', '28000']);
const TIMEOUT_ERRNO = new Set(['CONNECT_TIMEOUT', 'ETIMEDOUT']);

/**
 * SQLSTATE as remoteCode: 28P01 / 28000 → auth_failure, 42P01 (undefined table) → not_found,
 * 57014 (statement timeout) → timeout, anything else → connector_error. Socket failures keep
 * their errno. Messages come from the server or the socket; URLs in them are redacted.
 */
export function toSqlError(e: unknown): ConnectorError {
  if (e instanceof ConnectorError) return e;
  if (isPostgresError(e)) {
    const code = e.code;
    const message = redactUrl(e.message);
    if (AUTH.has(code)) return new ConnectorError('auth_failure', 'authentication failed', code);
    if (code === '42P01') return new ConnectorError('not_found', message, code);
    if (code === '57014') return new ConnectorError('timeout', message, code);
    return new ConnectorError('connector_error', message, code);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const errno = (err as NodeJS.ErrnoException).code;
  const message = redactUrl(err.message);
  if (errno && TIMEOUT_ERRNO.has(errno)) return new ConnectorError('timeout', message, errno);
  return new ConnectorError('connector_error', message, errno);
}
