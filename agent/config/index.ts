export { assertHostAllowed, HostNotAllowedError, isHostAllowed, isLoopback } from './hosts.ts';
export {
  type AgentAuth,
  type AgentConfig,
  AgentConfigError,
  type DataSourceConfig,
  loadAgentConfig,
} from './load.ts';
export { ldapSourceSchema, RECONNECT_CAP_MS, scimSourceSchema, sqlSourceSchema } from './schema.ts';
export { REDACTED, redact, redactUrl, Secret } from './secret.ts';
