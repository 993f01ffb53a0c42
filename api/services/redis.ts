import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { freePort, waitForPort } from './ports.ts';

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

export class MissingRedisError extends Error {
  constructor() {
    super(
      'redis-server is not installed: install it with `sudo apt-get install -y redis-server`, or set REDIS_URL',
    );
    this.name = 'MissingRedisError';
  }
}

/** True when `redis-server` can be run from PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts `redis-server` from PATH on a free loopback port with its data under `dir`:
 * AOF on and `noeviction`, as BullMQ requires. `ephemeral` (tests) keeps nothing on disk.
 */
export async function startLocalRedis(opts: {
  dir: string;
  logger: Logger;
  ephemeral?: boolean;
}): Promise<LocalRedis> {
  if (!hasRedisServer()) throw new MissingRedisError();
  await fs.mkdir(opts.dir, { recursive: true });
  const port = await freePort();
  const persistence = opts.ephemeral
    ? ['--appendonly', 'no', '--save', '']
    : ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    opts.dir,
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    ...persistence,
  ];
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) =>
    opts.logger.debug({ redis: d.toString().trim() }, 'redis'),
  );
  child.stderr?.on('data', (d: Buffer) =>
    opts.logger.warn({ redis: d.toString().trim() }, 'redis'),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    waitForPort(port),
    exited.then(() => {
      throw new Error('redis-server exited during start-up (see logs)');
    }),
  ]);
  opts.logger.info({ port, dir: opts.dir }, 'local redis-server started');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
