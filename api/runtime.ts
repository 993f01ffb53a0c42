import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { type EmbeddedPg, startEmbeddedPostgres } from './services/postgres.ts';
import {
  hasRedisServer,
  type LocalRedis,
  MissingRedisError,
  startLocalRedis,
} from './services/redis.ts';

/** Where the hub's backing services are, and how to stop the ones it started. */
export interface Runtime {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

interface RuntimeFile {
  pid: number;
  databaseUrl: string;
  redisUrl: string;
}

const runtimeFile = (config: Config) => path.join(config.dataDir, 'runtime.json');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The URLs of a hub already running on the embedded defaults in this data dir, so that the
 * CLI in a second terminal reaches the same database.
 */
export async function runningHub(config: Config): Promise<RuntimeFile | undefined> {
  const file = runtimeFile(config);
  if (!existsSync(file)) return undefined;
  const info = JSON.parse(await fs.readFile(file, 'utf8')) as RuntimeFile;
  return alive(info.pid) && info.pid !== process.pid ? info : undefined;
}

/**
 * Resolves PostgreSQL and Redis: configured URLs win; otherwise a running hub's embedded
 * services; otherwise this process starts them (and `publish` writes the runtime file).
 */
export async function startRuntime(
  config: Config,
  logger: Logger,
  opts: { publish: boolean; needRedis: boolean },
): Promise<Runtime> {
  const running = !config.databaseUrl || !config.redisUrl ? await runningHub(config) : undefined;
  if (opts.needRedis && !config.redisUrl && !running && !hasRedisServer())
    throw new MissingRedisError();
  let pg: EmbeddedPg | undefined;
  let redis: LocalRedis | undefined;
  const stop = async () => {
    await redis?.stop();
    await pg?.stop();
    if (opts.publish) await fs.rm(runtimeFile(config), { force: true });
  };
  try {
    let databaseUrl = config.databaseUrl ?? running?.databaseUrl;
    if (!databaseUrl) {
      pg = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'pg'), logger });
      databaseUrl = pg.url;
    }
    let redisUrl = config.redisUrl ?? running?.redisUrl ?? '';
    if (!redisUrl && opts.needRedis) {
      redis = await startLocalRedis({ dir: path.join(config.dataDir, 'redis'), logger });
      redisUrl = redis.url;
    }
    if (opts.publish && (pg || redis)) {
      const info: RuntimeFile = { pid: process.pid, databaseUrl, redisUrl };
      await fs.writeFile(runtimeFile(config), JSON.stringify(info), { mode: 0o600 });
    }
    return { databaseUrl, redisUrl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
