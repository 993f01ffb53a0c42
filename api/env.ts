import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HubGateway } from '../agent/gateway/gateway.ts';
import type { Db } from '../db/client.ts';
import type { QueueRegistry } from '../sync/queues.ts';
import type { TokenAuthenticator } from './auth-cache.ts';
import type { Config } from './config.ts';
import type { OperatorAuth } from './operator-token.ts';
import type { Principal } from './tenants.ts';

/** The services a request handler may use; built once by the composition root. */
export interface Services {
  config: Config;
  db: Db;
  redis: Redis;
  logger: Logger;
  recordTokenUse: (tokenId: string) => unknown;
  auth: TokenAuthenticator;
  /** The platform operator's credential (tenant management, queue dashboard). */
  operator: OperatorAuth;
  /** The BullMQ queues (sync/queues.ts); the owner of Services closes them. */
  queues: QueueRegistry;
  /** The agent gateway (agent/gateway): commands to on-premises agents and direct connectors. */
  gateway: HubGateway;
}

export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    log: Logger;
    principal: Principal;
  };
}
