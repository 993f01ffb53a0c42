/** The typed failure every connector but LDAP throws (LDAP has LdapConnectorError, same shape). */
import type { ErrorCode } from '../protocol.ts';

export class ConnectorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The remote system's own code: SQLSTATE, HTTP status, socket errno. */
    readonly remoteCode?: string | number,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/** Bad input from the caller: retrying the same command cannot help. */
export const refused = (message: string) => new ConnectorError('refused', message);
