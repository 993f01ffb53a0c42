/**
 * PostgreSQL going away in the middle of a run, as a restart looks to the hub: every
 * connection of the worker is terminated (SQLSTATE 57P01). The run's BullMQ job fails that
 * attempt, is retried, and the run restarts and finishes without duplicates.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../db/client.ts';
import { createHarness } from '../../test/harness.ts';
import { startSlapd, type TestSlapd } from '../../test/slapd.ts';
import { until } from '../../test/until.ts';
import { createSyncJob } from '../jobs/jobs.ts';
import { requestRun } from '../jobs/runs.ts';
import { syncSchedules } from '../jobs/schedules.ts';
import type { SyncWorker } from '../worker.ts';
import { admin, directLdapSource, startTestWorker } from './test-helpers.ts';

const USERS = 1000;
const app = `idhub-outage-${process.pid}`;
const h = createHarness({}, { queuePrefix: `{idhub-outage-${process.pid}}` });
// The worker's own pool, recognisable in pg_stat_activity: only its connections are cut.
const workerDb = createDb(inject('databaseUrl'), { max: 4, applicationName: app });
let ldap: TestSlapd;
let worker: SyncWorker;

beforeAll(async () => {
  ldap = await startSlapd({ generatedUsers: USERS });
  worker = startTestWorker(h, { db: workerDb });
});
afterAll(async () => {
  await worker?.close();
  await h.services.queues.byName['directory-sync']
    .obliterate({ force: true })
    .catch(() => undefined);
  await workerDb.close();
  await ldap?.stop();
});

describe('PostgreSQL restarting during a run', () => {
  it('fails the attempt, retries, and restarts the run without duplicates', {
    timeout: 120_000,
  }, async () => {
    const t = await h.tenant();
    const ds = await directLdapSource(h, t.tenantId, ldap);
    const job = await createSyncJob(h.db.db, syncSchedules(h.services.queues), t.tenantId, admin, {
      dataSourceId: ds.id,
      name: 'generated',
      kind: 'import_active',
      baseDn: `ou=generated,${ldap.baseDn}`,
      options: { pageSize: 5 },
    });
    const { run } = await requestRun(h.db.db, h.services.queues, t.tenantId, job.id, {
      actor: admin,
    });
    await until(
      async () => {
        const [r] = await h.db.sql`select created from sync_runs where id = ${run.id}`;
        return (r?.created ?? 0) >= 100;
      },
      'the run to be part-way',
      30_000,
    );
    const cut = await h.db.sql`select pg_terminate_backend(pid) as ok from pg_stat_activity
      where application_name = ${app}`;
    expect(cut.length).toBeGreaterThan(0);

    const done = await until(
      async () => {
        const [r] = await h.db.sql`select status, attempts, read, created, unchanged, error
          from sync_runs where id = ${run.id}`;
        return r?.status !== 'running' && r?.status !== 'queued' ? r : undefined;
      },
      'the retried run to finish',
      90_000,
      50,
    );
    // Each retry takes a pooled connection that may still be a cut one: two or more attempts.
    expect(done).toMatchObject({ status: 'succeeded', read: USERS, error: null });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.created + done.unchanged).toBe(USERS);
    const [users] = await h.db.sql`select count(*)::int as n, count(distinct user_name)::int as d
      from users where tenant_id = ${t.tenantId}`;
    expect(users).toEqual({ n: USERS, d: USERS });
  });
});
