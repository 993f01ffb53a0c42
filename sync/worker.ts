/**
 * The `directory-sync` worker. Every hub replica runs one (IDHUB_SYNC_WORKERS=0 turns it off);
 * BullMQ hands each job to exactly one of them.
 *
 * Jobs on the queue:
 * - scheduler ticks (`sync-job:<jobId>`, data `{tenantId, jobId, trigger: 'schedule'}`): they
 *   only request a run through `requestRun`, so a tick while a run is active starts nothing;
 *   a tick for a job that is gone or disabled removes its scheduler;
 * - runs (`run-<runId>`, data RunSyncData): executed by the engine (engine/run.ts).
 *
 * Recovery (at start and every minute, any replica): a queued or running run whose BullMQ job
 * is gone (Redis lost its data) is enqueued again; the engine restarts a running run safely.
 */
import { type Job, Worker } from 'bullmq';
import { and, eq, lt, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentGateway } from '../agent/gateway/types.ts';
import type { Db } from '../db/client.ts';
import { syncJobs, syncRuns } from '../db/schema/index.ts';
import { executeRun, failRun } from './engine/run.ts';
import { reconcileSchedules } from './jobs/reconcile.ts';
import { enqueueRun, type RunSyncData, requestRun, runJobId } from './jobs/runs.ts';
import { type ScheduledSyncData, schedulerId } from './jobs/schedules.ts';
import type { QueueRegistry } from './queues.ts';

export interface SyncWorkerDeps {
  db: Db;
  redisUrl: string;
  queues: QueueRegistry;
  gateway: AgentGateway;
  logger: Logger;
  /** Runs at once per replica (default 2). */
  concurrency?: number;
  /** BullMQ lock of a run in progress; a dead worker's run moves on after it (default 30 s). */
  lockMs?: number;
  /**
   * How often queued/running runs are checked against the queue (default 60 s). 0: never, and
   * no schedule reconciliation at start either — for a worker that must not touch other
   * deployments' runs sharing its database (tests with private queue prefixes).
   */
  recoverEveryMs?: number;
}

export interface SyncWorker {
  /**
   * Runs one recovery pass now (also run at start and periodically); `tenantId` limits it to
   * one tenant's runs. Returns how many runs were enqueued again.
   */
  recover(opts?: { tenantId?: string }): Promise<number>;
  close(): Promise<void>;
}

const isRun = (d: RunSyncData | ScheduledSyncData): d is RunSyncData =>
  typeof (d as RunSyncData).runId === 'string';

export function startSyncWorker(deps: SyncWorkerDeps): SyncWorker {
  const { db, queues, logger } = deps;
  const queue = queues.byName['directory-sync'];
  const log = logger.child({ component: 'sync-worker' });
  let stopping = false;
  const engine = { db: db.db, gateway: deps.gateway, logger: log, stopping: () => stopping };

  async function tick(data: ScheduledSyncData): Promise<void> {
    const [job] = await db.db
      .select({ enabled: syncJobs.enabled, cron: syncJobs.cron })
      .from(syncJobs)
      .where(and(eq(syncJobs.tenantId, data.tenantId), eq(syncJobs.id, data.jobId)));
    if (!job?.enabled || !job.cron) {
      await queue.removeJobScheduler(schedulerId(data.jobId));
      log.info({ jobId: data.jobId }, 'schedule of a deleted or disabled job removed');
      return;
    }
    const { run, created } = await requestRun(db.db, queues, data.tenantId, data.jobId, {
      trigger: 'schedule',
      actor: { type: 'system', id: 'scheduler' },
    });
    if (!created)
      log.info({ jobId: data.jobId, runId: run.id }, 'schedule fired while a run is active');
  }

  async function process(job: Job<RunSyncData | ScheduledSyncData>): Promise<void> {
    const data = job.data;
    if (!isRun(data)) return tick(data);
    try {
      await executeRun(engine, data.runId);
    } catch (e) {
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        const message = e instanceof Error ? e.message : String(e);
        await failRun(db.db, data.runId, `gave up after ${attempts} attempts: ${message}`).catch(
          (err) => log.error({ err, runId: data.runId }, 'could not mark the run failed'),
        );
      }
      throw e;
    }
  }

  const connection = new Redis(deps.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (err) => log.warn({ err }, 'sync worker connection'));
  const worker = new Worker<RunSyncData | ScheduledSyncData>(queue.name, process, {
    connection,
    prefix: queue.opts.prefix,
    concurrency: deps.concurrency ?? 2,
    lockDuration: deps.lockMs ?? 30_000,
    stalledInterval: deps.lockMs ?? 30_000,
  });
  worker.on('error', (err) => log.warn({ err }, 'sync worker'));
  worker.on('failed', (job, err) =>
    log.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'sync job attempt failed'),
  );

  /** Queued or running runs without a live BullMQ job get one again. */
  async function recover(opts: { tenantId?: string } = {}): Promise<number> {
    const stale = await db.db
      .select()
      .from(syncRuns)
      .where(
        and(
          opts.tenantId ? eq(syncRuns.tenantId, opts.tenantId) : undefined,
          sql`${syncRuns.status} in ('queued', 'running')`,
          lt(
            sql`coalesce(${syncRuns.progressAt}, ${syncRuns.createdAt})`,
            sql`now() - interval '30 seconds'`,
          ),
        ),
      )
      .limit(1000);
    let repaired = 0;
    for (const run of stale) {
      const job = await queue.getJob(runJobId(run.id));
      const state = job ? await job.getState() : 'missing';
      if (
        state === 'active' ||
        state === 'waiting' ||
        state === 'delayed' ||
        state === 'prioritized'
      ) {
        continue;
      }
      if (job) await job.remove().catch(() => undefined);
      await enqueueRun(queues, run);
      repaired++;
      log.warn({ runId: run.id, status: run.status, jobState: state }, 'sync run re-enqueued');
    }
    return repaired;
  }

  const every = deps.recoverEveryMs ?? 60_000;
  const boot = (async () => {
    if (every <= 0) return;
    await reconcileSchedules(db.db, queues).catch((err) =>
      log.warn({ err }, 'schedules not reconciled'),
    );
    await recover().catch((err) => log.warn({ err }, 'sync recovery'));
  })();
  const timer =
    every > 0
      ? setInterval(() => {
          recover().catch((err) => log.warn({ err }, 'sync recovery'));
        }, every)
      : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    recover,
    close() {
      closing ??= (async () => {
        stopping = true;
        if (timer) clearInterval(timer);
        await boot;
        await worker.close();
        await connection.quit().catch(() => connection.disconnect());
      })();
      return closing;
    },
  };
}
