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
  };
}
