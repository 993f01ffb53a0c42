import type { Logger } from 'pino';
import type { AgentConfig } from '../config/index.ts';
import type { ConnectorSet } from '../connectors/types.ts';

/**
 * The real connectors for the configured data sources. Imported lazily so the runner (and its
 * tests, which inject a fake ConnectorSet) does not load LDAP and SQL drivers it does not use.
 */
export async function loadConnectors(
  config: Pick<AgentConfig, 'dataSources' | 'allowHosts'>,
  logger: Logger,
  agentVersion: string,
): Promise<ConnectorSet> {
  const { createConnectorSet } = await import('../connectors/index.ts');
  return createConnectorSet(config.dataSources, {
    allowHosts: config.allowHosts,
    logger,
    agentVersion,
  });
}
