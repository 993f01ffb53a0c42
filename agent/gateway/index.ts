import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../api/config.ts';
import type { Db } from '../../db/client.ts';
import pkg from '../../package.json' with { type: 'json' };
import { createGateway, type HubGateway } from './gateway.ts';

export type { HubGateway } from './gateway.ts';
export { agentRoutes } from './routes.ts';
export * from './types.ts';

/** The hub's gateway from its configuration (the composition root and the test harness). */
export function gatewayFromConfig(
  config: Config,
  db: Db,
  redis: Redis,
  logger: Logger,
): HubGateway {
  return createGateway({
    sql: db.sql,
    redis,
    logger: logger.child({ component: 'agent-gateway' }),
    replica: config.replicaName,
    agentVersion: pkg.version,
    heartbeatMs: config.agents.heartbeatMs,
    adminTimeoutMs: config.agents.adminTimeoutMs,
    operationTimeoutMs: config.agents.operationTimeoutMs,
    maxAttempts: config.agents.maxAttempts,
    maxResultBytes: config.agents.maxResultBytes,
    certHeader: config.agents.certHeader,
    requireClientChain: Boolean(config.tls?.clientCaFile),
  });
}
