/**
 * Brings Redis in line with the sync_jobs table: every enabled job with a cron gets its
 * scheduler, and every `sync-job:*` scheduler without such a job is removed. For boot (every
 * replica may run it; upserts by stable id converge) and after Redis lost its data. It also
 * clears the schedulers of jobs that went with their data source (a cascade, no Redis call).
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { syncJobs } from '../../db/schema/index.ts';
import type { QueueRegistry } from '../queues.ts';
import { schedulerId, syncSchedules } from './schedules.ts';

export async function reconcileSchedules(
  db: Database,
  queues: Pick<QueueRegistry, 'byName'>,
): Promise<{ upserted: number; removed: number }> {
  const schedules = syncSchedules(queues);
  // Schedulers first: one created by a request after this snapshot is never taken for an
  // orphan. (A job disabled while this runs may get its scheduler back; the worker drops
  // ticks of disabled or missing jobs, and the next reconcile removes it.)
  const existing = await queues.byName['directory-sync'].getJobSchedulers(0, -1);
  const jobs = await db
    .select({
      id: syncJobs.id,
      tenantId: syncJobs.tenantId,
      cron: syncJobs.cron,
      timezone: syncJobs.timezone,
      enabled: syncJobs.enabled,
    })
    .from(syncJobs)
    .where(and(eq(syncJobs.enabled, true), isNotNull(syncJobs.cron)));
  for (const job of jobs) await schedules.upsert(job);
  const wanted = new Set(jobs.map((j) => schedulerId(j.id)));
  let removed = 0;
  for (const s of existing) {
    if (!s.key.startsWith('sync-job:') || wanted.has(s.key)) continue;
    await schedules.remove(s.key.slice('sync-job:'.length));
    removed++;
  }
  return { upserted: jobs.length, removed };
}
