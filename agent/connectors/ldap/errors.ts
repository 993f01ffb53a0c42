import { ResultCodeError } from 'ldapts';
import { ConnectorError } from '../errors.ts';
import { DnSyntaxError } from './dn.ts';
import { FilterSyntaxError } from './filter.ts';

/** The protocol's error codes this connector can produce (see agent/protocol.ts errorCodes). */
export type LdapErrorCode =
  | 'auth_failure'
  | 'not_found'
  | 'timeout'
  | 'connector_error'
  | 'refused';

/** A typed connector failure. `remoteCode` is the LDAP result code or a socket errno. */
export class LdapConnectorError extends ConnectorError {
  declare readonly code: LdapErrorCode;
  constructor(code: LdapErrorCode, message: string, remoteCode?: number | string) {
    super(code, message, remoteCode);
    this.name = 'LdapConnectorError';
  }
}

const INVALID_CREDENTIALS = 49;
const NO_SUCH_OBJECT = 32;
const TIME_LIMIT_EXCEEDED = 3;

/**
 * Maps anything ldapts or the socket throws to a LdapConnectorError. Messages come from the
 * server or the socket and never contain the bind password (ldapts redacts it in its logs).
 * A malformed DN or filter from the caller is `refused`: retrying cannot help.
 */
export function toLdapError(e: unknown): LdapConnectorError {
  if (e instanceof LdapConnectorError) return e;
  if (e instanceof DnSyntaxError)
    return new LdapConnectorError('refused', `invalid DN: ${e.message}`);
  if (e instanceof FilterSyntaxError) return new LdapConnectorError('refused', e.message);
  if (e instanceof ResultCodeError) {
    if (e.code === INVALID_CREDENTIALS) {
      return new LdapConnectorError('auth_failure', 'invalid credentials', e.code);
    }
    if (e.code === NO_SUCH_OBJECT) return new LdapConnectorError('not_found', e.message, e.code);
    if (e.code === TIME_LIMIT_EXCEEDED) return new LdapConnectorError('timeout', e.message, e.code);
    return new LdapConnectorError('connector_error', e.message, e.code);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if (/timed? ?out/i.test(err.message)) return new LdapConnectorError('timeout', err.message);
  const errno = (err as NodeJS.ErrnoException).code;
  if (errno === 'ETIMEDOUT') return new LdapConnectorError('timeout', err.message, errno);
  return new LdapConnectorError('connector_error', err.message, errno);
}
