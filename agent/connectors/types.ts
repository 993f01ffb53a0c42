/**
 * What the agent (and the hub, for data sources it reaches directly) runs commands through.
 * One ConnectorSet serves every data source of a configuration; it never throws for a command:
 * every failure is a typed CommandResult error.
 */
import type { Command, CommandResult } from '../protocol.ts';

export interface ConnectorSet {
  /**
   * Runs one command. Unknown data source or a host outside allowHosts → `refused`;
   * `signal` aborts at the command's deadline (→ `timeout`).
   */
  execute(command: Command, signal?: AbortSignal): Promise<CommandResult>;
  /** Closes every connection (LDAP clients, SQL pools). */
  close(): Promise<void>;
}
