import { afterAll, describe, expect, it } from 'vitest';
import { createHarness, type TestTenant } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);
const queue = h.services.queues.byName['directory-sync'];

const created: string[] = [];
afterAll(async () => {
  for (const id of created) await queue.removeJobScheduler(`sync-job:${id}`);
  const runs = await h.db.sql`select id from sync_runs where job_id = any(${created}::uuid[])`;
  for (const r of runs) await queue.remove(`run-${r.id}`);
  // No active runs left behind for a worker elsewhere in the run to recover.
  await h.db.sql`update sync_runs set status = 'cancelled', finished_at = now()
    where job_id = any(${created}::uuid[]) and status in ('queued', 'running')`;
});

const local = (globalId: string) =>
  Buffer.from(globalId, 'base64').toString().split(':')[1] as string;

const RUN = `id status dryRun trigger triggeredBy cancelRequested read failed durationMs
  throughput stagedChangeCount job { name }`;
const RUN_JOB = `mutation($id: ID!, $dry: Boolean) { r: runSyncJob(id: $id, dryRun: $dry) {
  __typename ... on Error { message } ... on SyncRun { ${RUN} } } }`;
const CANCEL = `mutation($id: ID!) { r: cancelRun(id: $id) {
  __typename ... on Error { message } ... on SyncRun { ${RUN} } } }`;

async function jobOf(t: TestTenant, cron: string | null = null) {
  const ds = dataOf(
    await gql(
      t.adminToken,
      `mutation { r: createDataSource(input: {name: "corp", kind: LDAP, agentEnabled: true}) {
        ... on DataSource { id } } }`,
    ),
  ).r;
  const job = dataOf(
    await gql(
      t.adminToken,
      `mutation($ds: ID!, $cron: String) { r: createSyncJob(input: {dataSource: $ds,
        name: "active", kind: IMPORT_ACTIVE, cron: $cron}) { ... on SyncJob { id } } }`,
      { ds: ds.id, cron },
    ),
  ).r;
  created.push(local(job.id));
  return job.id as string;
}

const runJob = async (t: TestTenant, id: string, dry?: boolean) =>
  dataOf(await gql(t.adminToken, RUN_JOB, { id, dry })).r;

describe('GraphQL sync runs', () => {
  it('runs a job once however often it is asked at the same time', async () => {
    const t = await h.tenant();
    const jobId = await jobOf(t);
    const runs = await Promise.all([1, 2, 3, 4, 5].map(() => runJob(t, jobId, true)));
    const ids = new Set(runs.map((r) => r.id));
    expect(ids.size).toBe(1);
    const run = runs[0];
    expect(run).toMatchObject({
      __typename: 'SyncRun',
      status: 'QUEUED',
      dryRun: true,
      trigger: 'MANUAL',
      cancelRequested: false,
      read: 0,
      durationMs: null,
      throughput: null,
      stagedChangeCount: 0,
      job: { name: 'active' },
    });
    expect(run.triggeredBy).toMatch(/^token:[0-9a-f-]{36}$/);
    const rows = await h.db.sql`select id from sync_runs where job_id = ${local(jobId)}`;
    expect(rows.map((r) => r.id)).toEqual([local(run.id)]);
    const queued = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter(
      (j) => j.data.jobId === local(jobId),
    );
    expect(queued.map((j) => [j.id, j.name, j.data])).toEqual([
      [
        `run-${local(run.id)}`,
        'directory-sync',
        { tenantId: t.tenantId, jobId: local(jobId), runId: local(run.id), dryRun: true },
      ],
    ]);
    // A later call while it is still queued: the same run, and a lost BullMQ job is added back.
    await queue.remove(`run-${local(run.id)}`);
    expect((await runJob(t, jobId)).id).toBe(run.id);
    expect((await queue.getJob(`run-${local(run.id)}`))?.data.runId).toBe(local(run.id));
    const audit = await h.db.sql`select action from audit_log
      where tenant_id = ${t.tenantId} and action = 'syncJob.run'`;
    expect(audit).toHaveLength(1);
  });

  it('cancels a queued run at once and asks a running one to stop', async () => {
    const t = await h.tenant();
    const jobId = await jobOf(t);
    const first = await runJob(t, jobId);
    const cancelled = dataOf(await gql(t.adminToken, CANCEL, { id: first.id })).r;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelRequested: false });
    expect(await queue.getJob(`run-${local(first.id)}`)).toBeUndefined();
    // Twice is harmless.
    expect(dataOf(await gql(t.adminToken, CANCEL, { id: first.id })).r.status).toBe('CANCELLED');

    const second = await runJob(t, jobId);
    expect(second.id).not.toBe(first.id);
    await h.db.sql`update sync_runs set status = 'running', started_at = now() - interval '2 s'
      where id = ${local(second.id)}`;
    const asked = dataOf(await gql(t.adminToken, CANCEL, { id: second.id })).r;
    expect(asked).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(asked.durationMs).toBeGreaterThanOrEqual(2000);
    // While it runs, a request returns it rather than starting another.
    expect((await runJob(t, jobId)).id).toBe(second.id);

    await h.db.sql`update sync_runs set status = 'succeeded', read = 1000,
      finished_at = started_at + interval '4 s' where id = ${local(second.id)}`;
    const done = dataOf(await gql(t.adminToken, CANCEL, { id: second.id })).r;
    expect(done).toMatchObject({ __typename: 'InvalidInputError' });
    expect(done.message).toMatch(/finished \(succeeded\)/);
    const listed = dataOf(
      await gql(
        t.adminToken,
        `query($id: ID!) { syncJob(id: $id) { runs(first: 1) { totalCount
          edges { node { id durationMs throughput } } pageInfo { hasNextPage endCursor } } } }`,
        { id: jobId },
      ),
    ).syncJob.runs;
    expect(listed.totalCount).toBe(2);
    expect(listed.edges).toEqual([{ node: { id: second.id, durationMs: 4000, throughput: 250 } }]);
    const rest = dataOf(
      await gql(
        t.adminToken,
        `query($id: ID!, $after: String) { syncJob(id: $id) { runs(first: 5, after: $after) {
          edges { node { id status } } } } }`,
        { id: jobId, after: listed.pageInfo.endCursor },
      ),
    ).syncJob.runs;
    expect(rest.edges).toEqual([{ node: { id: first.id, status: 'CANCELLED' } }]);
  });
});

describe('GraphQL sync jobs and runs: auth and tenant isolation', () => {
  it('refuses no token (401) and a SCIM-only token (403)', async () => {
    const t = await h.tenant();
    const id = await jobOf(t);
    const docs: [string, Record<string, unknown>][] = [
      ['{ syncJobs { totalCount } }', {}],
      ['query($id: ID!) { syncJob(id: $id) { id } }', { id }],
      ['query($id: ID!) { syncRun(id: $id) { id } }', { id }],
      [RUN_JOB, { id }],
      [CANCEL, { id }],
      ['mutation($id: ID!) { enableSyncJob(id: $id) { __typename } }', { id }],
      ['mutation($id: ID!) { disableSyncJob(id: $id) { __typename } }', { id }],
      ['mutation($id: ID!) { deleteSyncJob(id: $id) { __typename } }', { id }],
      ['mutation($id: ID!) { updateSyncJob(id: $id, input: {}) { __typename } }', { id }],
      [
        `mutation { createSyncJob(input: {dataSource: "x", name: "x", kind: RECONCILE}) {
          __typename } }`,
        {},
      ],
    ];
    for (const [doc, vars] of docs) {
      expect((await gql(undefined, doc, vars)).status, doc).toBe(401);
      expect((await gql(t.scimToken, doc, vars)).status, doc).toBe(403);
    }
    const [n] = await h.db
      .sql`select count(*)::int as n from sync_runs where tenant_id = ${t.tenantId}`;
    expect(n?.n).toBe(0);
  });

  it("another tenant's job and run are null in queries and NotFound in every mutation", async () => {
    const [a, b] = [await h.tenant(), await h.tenant()];
    const job = await jobOf(b, '0 3 * * *');
    const run = (await runJob(b, job)).id;
    const seen = dataOf(
      await gql(
        a.adminToken,
        `query($job: ID!, $run: ID!) { syncJob(id: $job) { id } syncRun(id: $run) { id }
          node(id: $job) { id } nodes(ids: [$job, $run]) { id }
          syncJobs(first: 100) { totalCount edges { node { id } } } }`,
        { job, run },
      ),
    );
    expect(seen).toEqual({
      syncJob: null,
      syncRun: null,
      node: null,
      nodes: [null, null],
      syncJobs: { totalCount: 0, edges: [] },
    });
    const mutations = dataOf(
      await gql(
        a.adminToken,
        `mutation($job: ID!, $run: ID!) {
          u: updateSyncJob(id: $job, input: {name: "mine"}) { __typename }
          e: enableSyncJob(id: $job) { __typename }
          d: disableSyncJob(id: $job) { __typename }
          r: runSyncJob(id: $job) { __typename }
          c: cancelRun(id: $run) { __typename }
          x: deleteSyncJob(id: $job) { __typename } }`,
        { job, run },
      ),
    );
    expect(Object.values(mutations)).toEqual(Array(6).fill({ __typename: 'NotFoundError' }));
    const [stored] = await h.db.sql`select j.name, j.enabled, r.status from sync_jobs j
      join sync_runs r on r.job_id = j.id where j.id = ${local(job)}`;
    expect(stored).toEqual({ name: 'active', enabled: true, status: 'queued' });
    expect(await queue.getJobScheduler(`sync-job:${local(job)}`)).toBeDefined();
    const audit = await h.db
      .sql`select count(*)::int as n from audit_log where tenant_id = ${a.tenantId}`;
    expect(audit[0]?.n).toBe(0);
  });
});
