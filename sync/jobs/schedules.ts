/**
 * The BullMQ job schedulers behind sync jobs. Each job has at most one scheduler, with the
 * stable id `sync-job:<jobId>`: upserting the same id from several replicas (or twice) leaves
 * one schedule, and upserting a changed cron replaces it. Schedulers add a `directory-sync`
 * job carrying ids only; the worker creates the run row when it picks one up.
 */
import type { QueueRegistry } from '../queues.ts';

export const SYNC_JOB_NAME = 'directory-sync';

export const schedulerId = (jobId: string) => `sync-job:${jobId}`;

/** What a schedule needs to know of a sync job. */
export interface SchedulableJob {
  id: string;
  tenantId: string;
  cron: string | null;
  timezone: string;
  enabled: boolean;
}

/** Payload of a scheduled `directory-sync` job (ids only: jobs sit in clear in Redis). */
export interface ScheduledSyncData {
  tenantId: string;
  jobId: string;
  trigger: 'schedule';
}

export function syncSchedules(queues: Pick<QueueRegistry, 'byName'>) {
  const queue = queues.byName['directory-sync'];
  /** Removes a job's schedule: it was disabled, deleted, or lost its cron. Idempotent. */
  const remove = async (jobId: string): Promise<void> => {
    await queue.removeJobScheduler(schedulerId(jobId));
  };
  /** Makes the scheduler match the job: a schedule when enabled with a cron, none otherwise. */
  const upsert = async (job: SchedulableJob): Promise<void> => {
    if (!job.enabled || !job.cron) return remove(job.id);
    const data: ScheduledSyncData = { tenantId: job.tenantId, jobId: job.id, trigger: 'schedule' };
    await queue.upsertJobScheduler(
      schedulerId(job.id),
      { pattern: job.cron, tz: job.timezone },
      { name: SYNC_JOB_NAME, data },
    );
  };
  return { upsert, remove };
}

export type SyncSchedules = ReturnType<typeof syncSchedules>;
