import { afterAll, describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import { dataOf, gqlClient } from './test-client.ts';

const h = createHarness();
const gql = gqlClient(h);
const queue = h.services.queues.byName['directory-sync'];

/** Every job this file creates: their schedulers and run jobs are removed at the end. */
const created: string[] = [];
afterAll(async () => {
  for (const id of created) await queue.removeJobScheduler(`sync-job:${id}`);
  const runs = await h.db.sql`select id from sync_runs where job_id = any(${created}::uuid[])`;
  for (const r of runs) await queue.remove(`run-${r.id}`);
});

const local = (globalId: string) =>
  Buffer.from(globalId, 'base64').toString().split(':')[1] as string;

const JOB = 'id name kind cron timezone enabled nextRunAt baseDn scope filter mapping';
const CREATE = `mutation($input: CreateSyncJobInput!) { r: createSyncJob(input: $input) {
  __typename ... on Error { message } ... on SyncJob { ${JOB} dataSource { name } } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateSyncJobInput!) { r: updateSyncJob(id: $id, input: $input) {
  __typename ... on Error { message } ... on SyncJob { ${JOB} } } }`;
const toggle = (op: string) => `mutation($id: ID!) { r: ${op}(id: $id) {
  __typename ... on Error { message } ... on SyncJob { ${JOB} } } }`;

async function setup() {
  const t = await h.tenant();
  const ds = dataOf(
    await gql(
      t.adminToken,
      `mutation { r: createDataSource(input: {name: "corp", kind: LDAP, agentEnabled: true}) {
        ... on DataSource { id } } }`,
    ),
  ).r;
  const create = async (input: Record<string, unknown>) => {
    const r = dataOf(
      await gql(t.adminToken, CREATE, {
        input: { dataSource: ds.id, kind: 'IMPORT_ACTIVE', ...input },
      }),
    ).r;
    if (r.__typename === 'SyncJob') created.push(local(r.id));
    return r;
  };
  const mutate = async (doc: string, vars: Record<string, unknown>) =>
    dataOf(await gql(t.adminToken, doc, vars)).r;
  return { t, ds, create, mutate };
}

describe('GraphQL sync jobs', () => {
  it('creates a job with its schedule under a stable id; a changed cron replaces it', async () => {
    const { t, create, mutate } = await setup();
    const job = await create({
      name: 'Active users',
      cron: '0 2 * * *',
      timezone: 'europe/berlin',
      baseDn: 'ou=people,dc=corp',
      filter: '(objectClass=inetOrgPerson)',
      mapping: { rules: [{ target: 'userName', source: 'uid' }] },
    });
    expect(job).toMatchObject({
      __typename: 'SyncJob',
      name: 'Active users',
      kind: 'IMPORT_ACTIVE',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      enabled: true,
      scope: 'SUB',
      mapping: { rules: [{ target: 'userName', source: 'uid' }] },
      dataSource: { name: 'corp' },
    });
    // 02:00 in Berlin is 00:00 or 01:00 UTC.
    expect(new Date(job.nextRunAt).getUTCHours()).toBeLessThan(2);
    expect(new Date(job.nextRunAt).getTime()).toBeGreaterThan(Date.now());
    const id = local(job.id);
    const first = await queue.getJobScheduler(`sync-job:${id}`);
    expect(first).toMatchObject({ pattern: '0 2 * * *', tz: 'Europe/Berlin' });
    expect(first?.template?.data).toEqual({ tenantId: t.tenantId, jobId: id, trigger: 'schedule' });
    expect(first?.name).toBe('directory-sync');

    const edited = await mutate(UPDATE, { id: job.id, input: { cron: '*/30 * * * *' } });
    expect(edited).toMatchObject({ cron: '*/30 * * * *', timezone: 'Europe/Berlin' });
    const mine = (await queue.getJobSchedulers(0, -1)).filter((s) => s.key.includes(id));
    expect(mine.map((s) => [s.key, s.pattern])).toEqual([[`sync-job:${id}`, '*/30 * * * *']]);

    const audit = await h.db.sql`select action from audit_log
      where tenant_id = ${t.tenantId} and target_type = 'SyncJob' order by id`;
    expect(audit.map((a) => a.action)).toEqual(['syncJob.create', 'syncJob.update']);
  });

  it('removes the schedule on disable, cron null and delete; enable restores it', async () => {
    const { create, mutate, t } = await setup();
    const job = await create({ name: 'nightly', cron: '@daily' });
    const sid = `sync-job:${local(job.id)}`;
    const off = await mutate(toggle('disableSyncJob'), { id: job.id });
    expect(off).toMatchObject({ enabled: false, nextRunAt: null, cron: '@daily' });
    expect(await queue.getJobScheduler(sid)).toBeUndefined();
    const on = await mutate(toggle('enableSyncJob'), { id: job.id });
    expect(on.enabled).toBe(true);
    expect(await queue.getJobScheduler(sid)).toMatchObject({ pattern: '@daily', tz: 'UTC' });
    const manual = await mutate(UPDATE, { id: job.id, input: { cron: null, name: null } });
    expect(manual).toMatchObject({ cron: null, name: 'nightly', nextRunAt: null });
    expect(await queue.getJobScheduler(sid)).toBeUndefined();
    await mutate(UPDATE, { id: job.id, input: { cron: '0 * * * *' } });
    expect(await queue.getJobScheduler(sid)).toBeDefined();
    const del = await mutate(
      `mutation($id: ID!) { r: deleteSyncJob(id: $id) { __typename ... on DeletePayload { deletedId } } }`,
      { id: job.id },
    );
    expect(del).toEqual({ __typename: 'DeletePayload', deletedId: job.id });
    expect(await queue.getJobScheduler(sid)).toBeUndefined();
    const gone = dataOf(
      await gql(t.adminToken, 'query($id: ID!) { syncJob(id: $id) { id } }', { id: job.id }),
    );
    expect(gone.syncJob).toBeNull();
  });

  it('refuses bad input with a clear message, writing nothing', async () => {
    const { t, create, mutate } = await setup();
    const other = await h.tenant();
    const theirs = dataOf(
      await gql(
        other.adminToken,
        `mutation { r: createDataSource(input: {name: "x", kind: LDAP, agentEnabled: true}) {
          ... on DataSource { id } } }`,
      ),
    ).r;
    const scim = dataOf(
      await gql(
        t.adminToken,
        `mutation { r: createDataSource(input: {name: "app", kind: SCIM, agentEnabled: true}) {
          ... on DataSource { id } } }`,
      ),
    ).r;
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ cron: '61 * * * *' }, 'InvalidInputError', /^cron "61 \* \* \* \*" is not valid/],
      [{ cron: 'every day' }, 'InvalidInputError', /^cron .*five fields/],
      [
        { cron: '0 2 * * *', timezone: 'Mars/Olympus' },
        'InvalidInputError',
        /^timezone "Mars\/Olympus"/,
      ],
      [{ filter: '  ' }, 'InvalidInputError', /^filter must not be empty/],
      [{ name: '' }, 'InvalidInputError', /^name must be/],
      [{ dataSource: scim.id }, 'InvalidInputError', /LDAP data source, not scim/],
      [{ dataSource: theirs.id }, 'NotFoundError', /not found/],
      [
        {
          mapping: {
            rules: [
              { target: 'userName', source: 'uid' },
              { target: 'nickname2', source: 'cn' },
            ],
          },
        },
        'InvalidInputError',
        /mapping\.rules\.1\.target: unknown SCIM attribute "nickname2"/,
      ],
      [{ options: { pageSize: 0 } }, 'InvalidInputError', /options\.pageSize/],
      [{ correlation: { attribute: 'mail' } }, 'InvalidInputError', /correlation\.attribute/],
    ];
    for (const [input, type, message] of bad) {
      const r = await create({ name: 'job', ...input });
      expect(r.__typename, JSON.stringify(input)).toBe(type);
      expect(r.message).toMatch(message);
    }
    const res = await gql(t.adminToken, CREATE, {
      input: { dataSource: scim.id, name: 'j', kind: 'RECONCILE', mapping: [1] },
    });
    expect(res.body.errors[0].message).toMatch(/JSON must be an object/);
    const ok = await create({ name: 'Job' });
    expect((await create({ name: 'JOB' })).__typename).toBe('ConflictError');
    const refused = await mutate(UPDATE, { id: ok.id, input: { timezone: 'nowhere' } });
    expect(refused.__typename).toBe('InvalidInputError');
    const [n] = await h.db.sql`select count(*)::int as n, min(timezone) as tz from sync_jobs
      where tenant_id = ${t.tenantId}`;
    expect(n).toEqual({ n: 1, tz: 'UTC' });
  });

  it("lists the tenant's jobs oldest first, optionally of one data source", async () => {
    const { t, ds, create } = await setup();
    const other = dataOf(
      await gql(
        t.adminToken,
        `mutation { r: createDataSource(input: {name: "hr", kind: LDAP, agentEnabled: true}) {
          ... on DataSource { id } } }`,
      ),
    ).r;
    const a = await create({ name: 'a' });
    const b = await create({ name: 'b', dataSource: other.id, kind: 'RECONCILE' });
    const list = async (dataSource?: string) =>
      dataOf(
        await gql(
          t.adminToken,
          `query($ds: ID) { syncJobs(dataSource: $ds) { totalCount edges { node { id kind } } } }`,
          { ds: dataSource },
        ),
      ).syncJobs;
    expect(await list()).toEqual({
      totalCount: 2,
      edges: [
        { node: { id: a.id, kind: 'IMPORT_ACTIVE' } },
        { node: { id: b.id, kind: 'RECONCILE' } },
      ],
    });
    expect((await list(ds.id)).edges).toEqual([{ node: { id: a.id, kind: 'IMPORT_ACTIVE' } }]);
    expect(await list('not-an-id')).toEqual({ totalCount: 0, edges: [] });
  });
});
