/**
 * The hub of `npm run bench:sync` with its sync worker. `child` (default): `idhub serve`, which
 * runs the worker itself; its RSS is its own, and this process drives it through the same
 * PostgreSQL and Redis. `in-process` (BENCH_SYNC_HUB=in-process): the hub of bench/lib/hub.ts in
 * this process, its worker started here on the hub's own services, logging at info level to a
 * file; its peak RSS is this process's (an upper bound), reset when the hub starts.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createDb, type Db } from '../../db/client.ts';
import { createQueues, type QueueRegistry } from '../../sync/queues.ts';
import { startSyncWorker } from '../../sync/worker.ts';
import {
  type HubOptions,
  type ProcMemory,
  procMemory,
  startHubChild,
  startHubInProcess,
} from './hub.ts';
import type { BenchServices } from './services.ts';

export type HubMode = 'in-process' | 'child';

export interface SyncHub {
  mode: HubMode;
  url: string;
  /** A pool for the bench's own SQL (seeding, polling, checks). */
  db: Db;
  queues: QueueRegistry;
  /** The worker's log (in-process only). */
  logFile?: string;
  memory(): ProcMemory;
  /** Row name of the hub's peak RSS. */
  memoryLabel: string;
  idleRssMb: number;
  stop(): Promise<void>;
}

/** Resets this process's VmHWM to its current RSS (Linux ≥ 4.0), so the peak is the hub's. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Room for the worker's concurrent page writes and the bench's own queries. */
const POOL = 10;

/** `logFile`: where the in-process worker logs (default: inside the run's directory, removed). */
export async function startSyncHub(
  bench: BenchServices,
  mode: HubMode,
  logFile = path.join(bench.dir, 'sync-worker.log'),
): Promise<SyncHub> {
  const opts: HubOptions = {
    databaseUrl: bench.databaseUrl,
    redisUrl: bench.redisUrl,
    poolSize: POOL,
    dataDir: path.join(bench.dir, 'hub'),
  };
  if (mode === 'child') {
    const hub = await startHubChild(opts);
    const db = createDb(bench.databaseUrl, { max: 4 });
    const queues = createQueues(bench.redisUrl, { logger: pino({ level: 'silent' }) });
    const idle = hub.memory();
    return {
      mode,
      url: hub.url,
      db,
      queues,
      memory: () => {
        const m = hub.memory();
        return { rssMb: m.rssMb, peakMb: m.peakMb ?? Number.NaN };
      },
      memoryLabel: 'Hub peak RSS (`idhub serve` child process VmHWM: API, gateway, sync worker)',
      idleRssMb: idle.rssMb,
      stop: async () => {
        await queues.close();
        await db.close();
        await hub.stop();
      },
    };
  }
  const reset = resetPeakRss();
  const idleRssMb = procMemory('self').rssMb;
  const hub = await startHubInProcess(opts);
  const services = hub.services;
  if (!services) throw new Error('the in-process hub does not expose its services');
  const logger: Logger = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false }));
  const worker = startSyncWorker({
    db: services.db,
    redisUrl: bench.redisUrl,
    queues: services.queues,
    gateway: services.gateway,
    logger,
  });
  return {
    mode,
    url: hub.url,
    db: services.db,
    queues: services.queues,
    logFile,
    memory: () => procMemory('self'),
    memoryLabel: `Hub peak RSS (in-process: bench process VmHWM = hub + sync worker + bench driver${
      reset ? '; peak reset when the hub started' : ''
    })`,
    idleRssMb,
    stop: async () => {
      await worker.close();
      await hub.stop();
      logger.flush();
    },
  };
}
