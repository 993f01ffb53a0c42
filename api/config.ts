import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  IDHUB_DATA_DIR: z.string().min(1).default('.data'),
  IDHUB_PUBLIC_URL: z.url().optional(),
  IDHUB_DB_POOL: z.coerce.number().int().min(1).max(200).default(10),
  IDHUB_SCIM_MAX_RESULTS: z.coerce.number().int().min(1).max(10_000).default(1000),
  IDHUB_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  IDHUB_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  IDHUB_OPERATOR_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  IDHUB_METRICS_PUBLIC: z.enum(['true', 'false']).default('false'),
  IDHUB_REPLICA_NAME: z.string().min(1).max(200).optional(),
  IDHUB_TLS_CERT: z.string().min(1).optional(),
  IDHUB_TLS_KEY: z.string().min(1).optional(),
  IDHUB_TLS_CLIENT_CA: z.string().min(1).optional(),
  IDHUB_AGENT_CERT_HEADER: z
    .string()
    .regex(/^[a-z0-9-]+$/i, 'must be a header name')
    .optional(),
  IDHUB_AGENT_HEARTBEAT_MS: z.coerce.number().int().min(200).max(120_000).default(15_000),
  IDHUB_AGENT_ADMIN_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  IDHUB_AGENT_OPERATION_TIMEOUT_MS: z.coerce.number().int().min(100).default(300_000),
  IDHUB_AGENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  IDHUB_SYNC_WORKERS: z.coerce.number().int().min(0).max(32).default(2),
  IDHUB_SYNC_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  IDHUB_SYNC_RECOVER_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  IDHUB_QUEUE_PREFIX: z
    .string()
    .regex(/^\{[A-Za-z0-9_.-]{1,64}\}$/, 'must be a Redis hash tag such as {idhub}')
    .default('{idhub}'),
  IDHUB_AGENT_MAX_RESULT_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(64 * 1024 * 1024)
    .default(8 * 1024 * 1024),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  redisUrl?: string;
  logLevel: (typeof logLevels)[number];
  dataDir: string;
  publicUrl?: string;
  dbPoolSize: number;
  scim: {
    maxResults: number;
    maxBodyBytes: number;
    maxOperations: number;
    maxBulkOperations: number;
  };
  shutdownTimeoutMs: number;
  operatorToken?: string;
  /** `/metrics` without operator credentials (for a scraper on a private network). */
  metricsPublic: boolean;
  /** This replica's name in agent status and logs (default host:pid). */
  replicaName: string;
  /** Directory sync runs this replica executes at once (0: it runs none). */
  syncWorkers: number;
  /** A run's BullMQ lock: a replica that dies holding a run loses it after this long. */
  syncLockMs: number;
  /** How often the worker re-enqueues runs whose queue entry was lost (0: never). */
  syncRecoverMs: number;
  /** BullMQ key prefix (a Redis Cluster hash tag): several deployments can share one Redis. */
  queuePrefix: string;
  /** HTTPS: PEM files. With a client CA, agents' certificates must chain to it. */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  agents: {
    /** Header carrying the agent's client certificate from a TLS-terminating proxy (URL-encoded PEM). */
    certHeader?: string;
    heartbeatMs: number;
    adminTimeoutMs: number;
    operationTimeoutMs: number;
    /** A command whose agent is lost this many times fails instead of moving again. */
    maxAttempts: number;
    /** Largest result body an agent may post. */
    maxResultBytes: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once, at boot. The only place that reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`,
      ),
    );
  }
  const e = parsed.data;
  if (Boolean(e.IDHUB_TLS_CERT) !== Boolean(e.IDHUB_TLS_KEY)) {
    throw new ConfigError(['IDHUB_TLS_CERT and IDHUB_TLS_KEY go together']);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.IDHUB_DATA_DIR),
    publicUrl: e.IDHUB_PUBLIC_URL?.replace(/\/$/, ''),
    dbPoolSize: e.IDHUB_DB_POOL,
    scim: {
      maxResults: e.IDHUB_SCIM_MAX_RESULTS,
      maxBodyBytes: e.IDHUB_MAX_BODY_BYTES,
      maxOperations: 1000,
      maxBulkOperations: 1000,
    },
    shutdownTimeoutMs: e.IDHUB_SHUTDOWN_TIMEOUT_MS,
    operatorToken: e.IDHUB_OPERATOR_TOKEN,
    metricsPublic: e.IDHUB_METRICS_PUBLIC === 'true',
    replicaName: e.IDHUB_REPLICA_NAME ?? `${os.hostname()}:${process.pid}`,
    syncWorkers: e.IDHUB_SYNC_WORKERS,
    syncLockMs: e.IDHUB_SYNC_LOCK_MS,
    syncRecoverMs: e.IDHUB_SYNC_RECOVER_MS,
    queuePrefix: e.IDHUB_QUEUE_PREFIX,
    tls: e.IDHUB_TLS_CERT
      ? {
          certFile: e.IDHUB_TLS_CERT,
          keyFile: e.IDHUB_TLS_KEY ?? '',
          clientCaFile: e.IDHUB_TLS_CLIENT_CA,
        }
      : undefined,
    agents: {
      certHeader: e.IDHUB_AGENT_CERT_HEADER?.toLowerCase(),
      heartbeatMs: e.IDHUB_AGENT_HEARTBEAT_MS,
      adminTimeoutMs: e.IDHUB_AGENT_ADMIN_TIMEOUT_MS,
      operationTimeoutMs: e.IDHUB_AGENT_OPERATION_TIMEOUT_MS,
      maxAttempts: e.IDHUB_AGENT_MAX_ATTEMPTS,
      maxResultBytes: e.IDHUB_AGENT_MAX_RESULT_BYTES,
    },
  };
}
