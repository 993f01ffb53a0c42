import { afterAll, describe, expect, inject, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { createQueues } from '../queues.ts';
import { createSyncJob } from './jobs.ts';
import { reconcileSchedules } from './reconcile.ts';
import { syncSchedules } from './schedules.ts';

const h = createHarness();
// A private prefix: reconciling touches every job in the database, and other test files use
// the hub's queue at the same time.
const queues = createQueues(inject('redisUrl'), { prefix: `{idhub-reconcile-${process.pid}}` });
const queue = queues.byName['directory-sync'];
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queues.close();
});

const actor = { type: 'system' as const, id: 'test' };

describe('reconcileSchedules', () => {
  it('recreates lost schedulers and removes orphans (a job gone with its data source)', async () => {
    const t = await h.tenant();
    const [ds] = await h.db.sql`insert into data_sources (tenant_id, name, kind)
      values (${t.tenantId}, 'corp', 'ldap') returning id`;
    const schedules = syncSchedules(queues);
    const input = { dataSourceId: ds?.id as string, kind: 'import_active' as const };
    const kept = await createSyncJob(h.db.db, schedules, t.tenantId, actor, {
      ...input,
      name: 'kept',
      cron: '0 1 * * *',
      timezone: 'Europe/Paris',
    });
    const off = await createSyncJob(h.db.db, schedules, t.tenantId, actor, {
      ...input,
      name: 'off',
      cron: '0 1 * * *',
      enabled: false,
    });
    expect(await queue.getJobScheduler(`sync-job:${off.id}`)).toBeUndefined();
    await queue.removeJobScheduler(`sync-job:${kept.id}`); // Redis lost it
    await queue.upsertJobScheduler('sync-job:00000000-0000-4000-8000-000000000000', {
      pattern: '0 0 * * *',
    });
    const r = await reconcileSchedules(h.db.db, queues);
    expect(r.removed).toBeGreaterThanOrEqual(1);
    const keys = (await queue.getJobSchedulers(0, -1)).map((s) => s.key);
    expect(keys).toContain(`sync-job:${kept.id}`);
    expect(keys).not.toContain(`sync-job:${off.id}`);
    expect(keys).not.toContain('sync-job:00000000-0000-4000-8000-000000000000');
    expect(await queue.getJobScheduler(`sync-job:${kept.id}`)).toMatchObject({
      pattern: '0 1 * * *',
      tz: 'Europe/Paris',
    });
    // The data source goes, its jobs with it (cascade): the next reconcile drops the schedule.
    await h.db.sql`delete from data_sources where id = ${ds?.id as string}`;
    await reconcileSchedules(h.db.db, queues);
    expect(await queue.getJobScheduler(`sync-job:${kept.id}`)).toBeUndefined();
  });
});
