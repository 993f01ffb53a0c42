import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import pino from 'pino';
import { gatewayFromConfig } from '../../agent/gateway/index.ts';
import { createApp } from '../../api/app.ts';
import { lazyAuthCache } from '../../api/auth-cache.ts';
import { loadConfig } from '../../api/config.ts';
import type { Services } from '../../api/env.ts';
import { operatorAuth } from '../../api/operator-token.ts';
import { freePort } from '../../api/services/ports.ts';
import { createUsageRecorder } from '../../api/tenants.ts';
import { createDb } from '../../db/client.ts';
import { createQueues } from '../../sync/queues.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size (VmHWM), MB; undefined when the OS does not say. */
  peakMb?: number;
}

export interface BenchHub {
  url: string;
  /** How the hub runs, for the report. */
  mode: 'child' | 'in-process';
  /** The hub's services (its gateway, its database), when it runs in this process. */
  services?: Services;
  memory(): Memory;
  stop(): Promise<void>;
}

export interface HubOptions {
  databaseUrl: string;
  redisUrl: string;
  poolSize: number;
  dataDir: string;
}

const MB = 1024 * 1024;

export interface ProcMemory {
  rssMb: number;
  peakMb: number;
}

/** VmRSS / VmHWM of a process from /proc (Linux); NaN where that cannot be read. */
export function procMemory(pid: number | 'self'): ProcMemory {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    /* not Linux, or the process is gone */
  }
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

async function waitHealthy(url: string, exited: Promise<never>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const probe = async () => {
    for (;;) {
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > until) throw new Error(`hub not healthy after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.race([probe(), exited]);
}

/**
 * The hub as its own process (`node api/bin.mjs serve`, i.e. `idhub serve`), so its event loop
 * and heap are not shared with the load generator and its RSS is the hub's alone.
 */
export async function startHubChild(o: HubOptions): Promise<BenchHub> {
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    IDHUB_DB_POOL: String(o.poolSize),
    IDHUB_DATA_DIR: o.dataDir,
    IDHUB_SHUTDOWN_TIMEOUT_MS: '2000',
  };
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'api/bin.mjs'), 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exited = done.then((): never => {
    throw new Error(`hub exited during start-up (code ${child.exitCode}):\n${stderr}`);
  });
  exited.catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };
  // If this process exits without stopping the hub (a signal, a crash), the hub goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  done.then(() => process.off('exit', killOnExit));
  try {
    await waitHealthy(url, exited, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, mode: 'child', memory: () => procMemory(child.pid as number), stop };
}

/**
 * The hub in this process, built like test/harness.ts. Its RSS then includes the load
 * generator and the baseline clients, and both share one event loop.
 */
export async function startHubInProcess(o: HubOptions): Promise<BenchHub> {
  const config = { ...loadConfig({ LOG_LEVEL: 'silent' }), dbPoolSize: o.poolSize };
  const db = createDb(o.databaseUrl, { max: o.poolSize });
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  const logger = pino({ level: 'silent' });
  const services: Services = {
    config,
    db,
    redis,
    logger,
    recordTokenUse: createUsageRecorder(db.db, (err) => logger.warn({ err }, 'token usage')),
    auth: lazyAuthCache(db, logger),
    operator: operatorAuth(randomBytes(24).toString('base64url')),
    queues: createQueues(o.redisUrl, { logger }),
    gateway: gatewayFromConfig(config, db, redis, logger),
  };
  const server = serve({ fetch: createApp(services).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const stop = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await services.gateway.close();
    await services.queues.close();
    await services.auth.close();
    await db.close();
    redis.disconnect();
  };
  const memory = (): Memory => {
    const linux = procMemory(process.pid);
    return Number.isFinite(linux.rssMb) ? linux : { rssMb: process.memoryUsage().rss / MB };
  };
  return { url: `http://127.0.0.1:${port}`, mode: 'in-process', services, memory, stop };
}
