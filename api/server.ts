import fs from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { gatewayFromConfig } from '../agent/gateway/index.ts';
import { createDb } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createQueues } from '../sync/queues.ts';
import { startSyncWorker } from '../sync/worker.ts';
import { createApp } from './app.ts';
import { createAuthCache } from './auth-cache.ts';
import type { Config } from './config.ts';
import type { Services } from './env.ts';
import { resolveOperatorToken } from './operator-token.ts';
import { startRuntime } from './runtime.ts';
import { createUsageRecorder } from './tenants.ts';

export interface RunningHub {
  url: string;
  close(): Promise<void>;
}

/** Boots the hub: backing services, migrations, HTTP server. `close` drains and stops it all. */
export async function startHub(config: Config, logger: Logger): Promise<RunningHub> {
  const runtime = await startRuntime(config, logger, { publish: true, needRedis: true });
  await migrateDatabase(runtime.databaseUrl);
  const db = createDb(runtime.databaseUrl, { max: config.dbPoolSize });
  const redis = new Redis(runtime.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (err) => logger.warn({ err }, 'redis'));
  const services: Services = {
    config,
    db,
    redis,
    logger,
    auth: await createAuthCache(db, logger),
    operator: await resolveOperatorToken(config.operatorToken, config.dataDir, logger),
    recordTokenUse: createUsageRecorder(db.db, (err) => logger.warn({ err }, 'token usage')),
    queues: createQueues(runtime.redisUrl, { logger, prefix: config.queuePrefix }),
    gateway: gatewayFromConfig(config, db, redis, logger),
  };
  const syncWorker =
    config.syncWorkers > 0
      ? startSyncWorker({
          db,
          redisUrl: runtime.redisUrl,
          queues: services.queues,
          gateway: services.gateway,
          logger,
          concurrency: config.syncWorkers,
          lockMs: config.syncLockMs,
          recoverEveryMs: config.syncRecoverMs,
        })
      : undefined;
  const app = createApp(services);
  const server = serve({
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    ...(await tlsServerOptions(config)),
  });
  // Idle keep-alive connections outlive clients' and load balancers' own idle timeouts (60 s
  // on most), so a client never reuses a socket the hub is closing at the same moment.
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, scim: `${url}/scim/v2` }, 'idhub is listening');
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down: draining requests');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }, config.shutdownTimeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
      // Runs in progress stop taking pages; BullMQ hands an unfinished one to another replica.
      await syncWorker?.close();
      await services.gateway.close();
      await services.queues.close();
      await services.auth.close();
      await db.close();
      redis.disconnect();
      await runtime.stop();
      logger.info('stopped');
    })();
    return closing;
  };
  return { url, close };
}

/**
 * HTTPS when IDHUB_TLS_CERT/KEY are set. Client certificates are requested but not required
 * (SCIM and GraphQL clients use tokens): an agent's certificate is matched by its registered
 * fingerprint, and with IDHUB_TLS_CLIENT_CA it must also chain to that CA.
 */
async function tlsServerOptions(config: Config) {
  if (!config.tls) return {};
  const [cert, key, ca] = await Promise.all([
    fs.readFile(config.tls.certFile),
    fs.readFile(config.tls.keyFile),
    config.tls.clientCaFile ? fs.readFile(config.tls.clientCaFile) : undefined,
  ]);
  return {
    createServer: createHttpsServer,
    serverOptions: {
      cert,
      key,
      ...(ca ? { ca } : {}),
      requestCert: true,
      rejectUnauthorized: false,
    },
  };
}
