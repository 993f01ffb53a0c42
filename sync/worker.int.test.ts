/**
 * The directory-sync worker's own duties, on a private queue prefix: recovering runs whose
 * BullMQ job was lost (Redis restarted without its data), and dropping the schedule of a job
 * that is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../test/harness.ts';
import { startSlapd, type TestSlapd } from '../test/slapd.ts';
import { until } from '../test/until.ts';
import { admin, directLdapSource, startTestWorker } from './engine/test-helpers.ts';
import { createSyncJob } from './jobs/jobs.ts';
import { runJobId } from './jobs/runs.ts';
import { SYNC_JOB_NAME, schedulerId, syncSchedules } from './jobs/schedules.ts';
import type { SyncWorker } from './worker.ts';

const h = createHarness({}, { queuePrefix: `{idhub-worker-${process.pid}}` });
const queue = h.services.queues.byName['directory-sync'];
let ldap: TestSlapd;
let worker: SyncWorker;

beforeAll(async () => {
  ldap = await startSlapd();
  worker = startTestWorker(h);
});
afterAll(async () => {
  await worker?.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await ldap?.stop();
});

async function job(tenantId: string, cron: string | null = null) {
  const ds = await directLdapSource(h, tenantId, ldap);
  return createSyncJob(h.db.db, syncSchedules(h.services.queues), tenantId, admin, {
    dataSourceId: ds.id,
    name: 'people',
    kind: 'import_active',
    baseDn: `ou=people,${ldap.baseDn}`,
    cron,
  });
}

describe('sync worker', () => {
  it('re-enqueues a queued run whose BullMQ job was lost, and runs it once', async () => {
    const t = await h.tenant();
    const j = await job(t.tenantId);
    // The row committed, then Redis lost the job (restarted without its data).
    const [run] = await h.db
      .sql`insert into sync_runs (tenant_id, job_id, trigger, triggered_by, created_at)
      values (${t.tenantId}, ${j.id}, 'manual', 'operator', now() - interval '2 minutes') returning id`;
    const runId = run?.id as string;
    expect(await queue.getJob(runJobId(runId))).toBeUndefined();
    expect(await worker.recover({ tenantId: t.tenantId })).toBe(1);
    const done = await until(
      async () => {
        const [r] = await h.db
          .sql`select status, created, attempts from sync_runs where id = ${runId}`;
        return r?.status === 'succeeded' ? r : undefined;
      },
      'the recovered run',
      20_000,
      25,
    );
    expect(done).toEqual({ status: 'succeeded', created: 5, attempts: 1 });
    // A second pass finds nothing to repair.
    const [again] = await h.db.sql`select count(*)::int as n from sync_runs where job_id = ${j.id}`;
    expect(again?.n).toBe(1);
  });

  it('a tick for a job that is gone removes its schedule and starts nothing', async () => {
    const t = await h.tenant();
    const j = await job(t.tenantId, '0 3 * * *');
    expect(await queue.getJobScheduler(schedulerId(j.id))).toBeTruthy();
    // The job went with its data source (cascade), leaving its scheduler behind.
    await h.db.sql`delete from data_sources where id = ${j.dataSourceId}`;
    const tick = await queue.add(SYNC_JOB_NAME, {
      tenantId: t.tenantId,
      jobId: j.id,
      trigger: 'schedule',
    });
    await until(
      async () =>
        (await tick.getState()) === 'completed' || !(await queue.getJob(tick.id as string)),
      'the tick',
    );
    expect(await queue.getJobScheduler(schedulerId(j.id))).toBeUndefined();
    const [n] = await h.db
      .sql`select count(*)::int as n from sync_runs where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(0);
  });
});
