/**
 * Runs of sync jobs: requesting one (deduplicated) and cancelling one. The partial unique
 * index `sync_runs_active_key` allows one queued-or-running run per job, in any number of
 * replicas; BullMQ dedupes the queue side by the job id `run-<runId>`.
 *
 * Contract for the worker (later work): it moves a run queued → running only with
 * `where status = 'queued'` (a cancelled run is then skipped), and polls `cancel_requested`
 * at its checkpoints. A scheduler tick (trigger 'schedule') goes through requestRun too, so a
 * tick while a run is active starts nothing new.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { type Actor, actorLabel, recordAudit } from '../../api/identity/audit.ts';
import { checkId, IdentityError, notFound } from '../../api/identity/errors.ts';
import { type Executor, inTransaction } from '../../api/identity/executor.ts';
import type { Tx } from '../../db/client.ts';
import { syncJobs, syncRuns } from '../../db/schema/index.ts';
import type { QueueRegistry } from '../queues.ts';
import { SYNC_JOB_NAME } from './schedules.ts';

export type SyncRunRecord = typeof syncRuns.$inferSelect;

/** Payload of a `directory-sync` job that executes one run (ids only). */
export interface RunSyncData {
  tenantId: string;
  jobId: string;
  runId: string;
  dryRun: boolean;
}

/** BullMQ refuses ':' in custom job ids (it reserves them for its own scheduler ids). */
export const runJobId = (runId: string) => `run-${runId}`;

type Queues = Pick<QueueRegistry, 'byName'>;

export interface RunRequest {
  dryRun?: boolean;
  trigger?: 'schedule' | 'manual';
  actor: Actor;
}

const ACTIVE = ['queued', 'running'] as const;

async function activeRun(tx: Tx, jobId: string): Promise<SyncRunRecord | undefined> {
  const [row] = await tx
    .select()
    .from(syncRuns)
    .where(and(eq(syncRuns.jobId, jobId), inArray(syncRuns.status, [...ACTIVE])))
    .orderBy(desc(syncRuns.createdAt))
    .limit(1);
  return row;
}

/**
 * Starts a run of a job now, or returns the one already queued or running (deduplicated).
 * The BullMQ job is added after the insert commits, so a worker never picks up a run it
 * cannot see yet. Should the add fail, the run stays queued and the next request for the job
 * returns it and adds it again (a no-op for BullMQ when the job exists, a repair otherwise).
 * Call it with the pool: inside a caller's transaction the add would precede that commit.
 */
export async function requestRun(
  db: Executor,
  queues: Queues,
  tenantId: string,
  jobId: string,
  req: RunRequest,
): Promise<{ run: SyncRunRecord; created: boolean }> {
  checkId('sync job', jobId);
  const dryRun = req.dryRun ?? false;
  const result = await inTransaction(db, async (tx) => {
    const [job] = await tx
      .select({ id: syncJobs.id, name: syncJobs.name })
      .from(syncJobs)
      .where(and(eq(syncJobs.tenantId, tenantId), eq(syncJobs.id, jobId)));
    if (!job) throw notFound('sync job', jobId);
    const [inserted] = await tx
      .insert(syncRuns)
      .values({
        tenantId,
        jobId,
        dryRun,
        trigger: req.trigger ?? 'manual',
        triggeredBy: actorLabel(req.actor),
      })
      // Waits for a concurrent inserter's commit, then sees its row as the conflict.
      .onConflictDoNothing({
        target: syncRuns.jobId,
        where: sql`status in ('queued', 'running')`,
      })
      .returning();
    const run = inserted ?? (await activeRun(tx, jobId));
    // Between the conflict and the select the active run finished: the caller may retry.
    if (!run) throw new IdentityError('conflict', 'the previous run just finished; try again');
    if (inserted) {
      await recordAudit(tx, {
        tenantId,
        actor: req.actor,
        action: 'syncJob.run',
        targetType: 'SyncJob',
        targetId: jobId,
        summary: { name: job.name, runId: run.id, dryRun, trigger: run.trigger },
      });
    }
    return { run, created: Boolean(inserted) };
  });
  if (result.run.status === 'queued') await enqueueRun(queues, result.run);
  return result;
}

/**
 * Adds the BullMQ job that executes a run (a no-op while one with its id waits or runs).
 * Finished jobs are removed, so a run can be enqueued again (approval, recovery). Attempts
 * cover outages of PostgreSQL or Redis mid-run: the engine restarts a run safely.
 */
export async function enqueueRun(queues: Queues, run: SyncRunRecord): Promise<void> {
  const data: RunSyncData = {
    tenantId: run.tenantId,
    jobId: run.jobId,
    runId: run.id,
    dryRun: run.dryRun,
  };
  await queues.byName['directory-sync'].add(SYNC_JOB_NAME, data, {
    jobId: runJobId(run.id),
    attempts: 5,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: true,
    removeOnFail: true,
  });
}

/**
 * Cancels a run: a queued one at once (its BullMQ job removed when still waiting), a running
 * one by setting `cancel_requested` for the worker to honour. A finished run cannot be
 * cancelled; cancelling twice is harmless.
 */
export async function cancelRun(
  db: Executor,
  queues: Queues,
  tenantId: string,
  actor: Actor,
  runId: string,
): Promise<SyncRunRecord> {
  checkId('sync run', runId);
  const run = await inTransaction(db, async (tx) => {
    const mine = and(eq(syncRuns.tenantId, tenantId), eq(syncRuns.id, runId));
    const [before] = await tx.select().from(syncRuns).where(mine).for('update');
    if (!before) throw notFound('sync run', runId);
    if (before.status === 'cancelled' || (before.status === 'running' && before.cancelRequested)) {
      return before;
    }
    if (before.status !== 'queued' && before.status !== 'running') {
      throw new IdentityError('invalid_transition', `the run has finished (${before.status})`);
    }
    const [after] = await tx
      .update(syncRuns)
      .set(
        before.status === 'queued'
          ? { status: 'cancelled', finishedAt: sql`now()` }
          : { cancelRequested: true },
      )
      .where(eq(syncRuns.id, runId))
      .returning();
    if (!after) throw notFound('sync run', runId);
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'syncRun.cancel',
      targetType: 'SyncRun',
      targetId: runId,
      summary: { jobId: after.jobId, status: before.status },
    });
    return after;
  });
  if (run.status === 'cancelled') {
    // Best effort: a job a worker holds cannot be removed, and the worker skips it anyway.
    await queues.byName['directory-sync'].remove(runJobId(run.id)).catch(() => 0);
  }
  return run;
}
