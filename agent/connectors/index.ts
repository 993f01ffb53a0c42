/**
 * The connectors' public surface: the agent's runner and the hub's direct mode import from here.
 * Connector modules (ldapts, postgres.js, the SCIM client) load on first use of their kind.
 */
export {
  type DataSourceKind,
  parseDirectDataSource,
  redactDataSourceConfig,
  SECRET_CONFIG_KEYS,
  secretKeysIn,
} from './direct.ts';
export { type ConnectorSetOptions, createConnectorSet } from './dispatcher.ts';
export { ConnectorError } from './errors.ts';
export type { ConnectorSet } from './types.ts';
