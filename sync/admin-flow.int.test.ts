/**
 * The administrator's path end to end, with the real worker on a private queue prefix: define
 * both sync jobs in GraphQL with cron schedules, start a run by hand and watch it, let a
 * scheduler tick start one, approve a held-back deletion plan, and see users, organisations,
 * account links and the deactivation cascade.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, gqlClient } from '../api/graphql/test-client.ts';
import { createHarness, OPERATOR_TOKEN, type TestTenant } from '../test/harness.ts';
import { startSlapd, type TestSlapd } from '../test/slapd.ts';
import { until } from '../test/until.ts';
import { ldapSourceConfig, startTestWorker } from './engine/test-helpers.ts';
import { SYNC_JOB_NAME } from './jobs/schedules.ts';
import type { SyncWorker } from './worker.ts';

const prefix = `{idhub-admin-flow-${process.pid}}`;
const h = createHarness({}, { queuePrefix: prefix });
const gql = gqlClient(h);
const queue = h.services.queues.byName['directory-sync'];
let ldap: TestSlapd;
let worker: SyncWorker;

beforeAll(async () => {
  ldap = await startSlapd({ generatedUsers: 30 });
  worker = startTestWorker(h);
});
afterAll(async () => {
  await worker?.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await ldap?.stop();
});

const RUN = `id status mode read created updated unchanged deactivated deleted failed skipped
  durationMs throughput progressAt error stagedChangeCount trigger decision decidedBy
  errors { entry reason } plan(first: 10) { action dn user { userName active } }`;

async function call(t: TestTenant, query: string, variables?: Record<string, unknown>) {
  return dataOf(await gql(t.adminToken, query, variables));
}

async function createJob(t: TestTenant, ds: string, input: Record<string, unknown>) {
  const r = await call(
    t,
    `mutation($input: CreateSyncJobInput!) { r: createSyncJob(input: $input) {
      __typename ... on Error { message } ... on SyncJob { id cron nextRunAt } } }`,
    { input: { dataSource: ds, ...input } },
  );
  expect(r.r.__typename, r.r.message).toBe('SyncJob');
  return r.r as { id: string; cron: string | null; nextRunAt: string | null };
}

/** Polls the run (the live-progress field) until it leaves QUEUED/RUNNING. */
async function finished(t: TestTenant, runId: string) {
  return until(
    async () => {
      const r = (
        await call(t, `query($id: ID!) { run: syncRun(id: $id) { ${RUN} } }`, { id: runId })
      ).run;
      return r.status !== 'QUEUED' && r.status !== 'RUNNING' ? r : undefined;
    },
    `run ${runId} to finish`,
    30_000,
    50,
  );
}

async function runNow(t: TestTenant, jobId: string, dryRun = false) {
  const r = await call(
    t,
    `mutation($id: ID!, $dry: Boolean) { r: runSyncJob(id: $id, dryRun: $dry) {
      __typename ... on Error { message } ... on SyncRun { id status } } }`,
    { id: jobId, dry: dryRun },
  );
  expect(r.r.__typename, r.r.message).toBe('SyncRun');
  return finished(t, r.r.id);
}

describe('directory sync, administered in GraphQL', () => {
  it('schedules both jobs, runs them, and shows users, organisations, links and cascades', async () => {
    const t = await h.tenant();
    const ds = (
      await call(
        t,
        `mutation($config: JSON) { r: createDataSource(input: {name: "corp", kind: LDAP,
          agentEnabled: false, config: $config}) { __typename ... on DataSource { id } } }`,
        {
          config: ldapSourceConfig(ldap),
        },
      )
    ).r.id as string;
    const mapping = {
      rules: [
        { target: 'userName', source: 'uid' },
        { target: 'displayName', source: 'cn' },
        { target: 'name.familyName', source: 'sn' },
        {
          target: 'urn:idhub:params:scim:schemas:extension:idhub:2.0:User:organization',
          source: 'entryDN',
          transform: 'dnToOrganization',
        },
      ],
    };
    const active = await createJob(t, ds, {
      name: 'Synchronize active LDAP users',
      kind: 'IMPORT_ACTIVE',
      cron: '0 * * * *',
      timezone: 'Europe/Berlin',
      baseDn: ldap.baseDn,
      mapping,
    });
    expect(active.cron).toBe('0 * * * *');
    expect(active.nextRunAt).toBeTruthy();
    const inactive = await createJob(t, ds, {
      name: 'Synchronize inactive LDAP users',
      kind: 'IMPORT_INACTIVE',
      cron: '30 2 * * *',
      baseDn: ldap.baseDn,
      mapping,
    });
    // Each job's schedule is a BullMQ job scheduler with its cron and time zone.
    const local = (id: string) => Buffer.from(id, 'base64').toString().split(':')[1] as string;
    expect(await queue.getJobScheduler(`sync-job:${local(active.id)}`)).toMatchObject({
      pattern: '0 * * * *',
      tz: 'Europe/Berlin',
    });

    const run = await runNow(t, active.id);
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      mode: 'FULL',
      created: 35,
      failed: 0,
      trigger: 'MANUAL',
    });
    expect(run.throughput).toBeGreaterThan(0);
    // Organisations from the OU path: people/, generated/.
    const orgs = await h.db
      .sql`select name from organizations where tenant_id = ${t.tenantId} order by name`;
    expect(orgs.map((o) => o.name)).toEqual(['generated', 'people']);
    const users = await call(
      t,
      `{ users(filter: "userName eq \\"alice\\"") { edges { node { userName active
         organization { name } accounts { edges { node { systemId dn state } } } } } } }`,
    );
    const alice = users.users.edges[0].node;
    expect(alice).toMatchObject({
      userName: 'alice',
      active: true,
      organization: { name: 'people' },
    });
    expect(alice.accounts.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { systemId: local(ds), dn: `uid=alice,ou=people,${ldap.baseDn}`, state: 'ACTIVE' },
    ]);

    // A scheduler tick goes through requestRun: it starts a run (trigger SCHEDULE).
    await queue.add(SYNC_JOB_NAME, {
      tenantId: t.tenantId,
      jobId: local(inactive.id),
      trigger: 'schedule',
    });
    const ticked = await until(
      async () => {
        const [r] = await h.db.sql`select id, status, trigger from sync_runs
          where job_id = ${local(inactive.id)} and status in ('succeeded', 'failed')`;
        return r;
      },
      'the scheduled run',
      30_000,
      50,
    );
    expect(ticked).toMatchObject({ status: 'succeeded', trigger: 'schedule' });

    // Operators see runs, their counters and durations in /metrics (all tenants, no labels of theirs).
    const metrics = await h.request('GET', '/metrics', {
      headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    const value = (line: string) => {
      const m = metrics.text.match(
        new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm'),
      );
      return m ? Number(m[1]) : Number.NaN;
    };
    expect(
      value('idhub_sync_runs{kind="import_active",status="succeeded"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value('idhub_sync_entries{kind="import_active",outcome="created"}'),
    ).toBeGreaterThanOrEqual(35);
    expect(
      value('idhub_sync_run_duration_seconds_count{kind="import_inactive",status="succeeded"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(metrics.text).toMatch(/^idhub_sync_oldest_running_seconds \S+$/m);
    expect(metrics.text).toMatch(
      /^idhub_queue_jobs\{queue="directory-sync",state="waiting"\} \d+$/m,
    );
  });

  it('holds a reconcile above the guard; the admin reads the plan and approves it', async () => {
    const t = await h.tenant();
    const ds = (
      await call(
        t,
        `mutation($config: JSON) { r: createDataSource(input: {name: "corp", kind: LDAP,
          agentEnabled: false, config: $config}) { ... on DataSource { id } } }`,
        {
          config: ldapSourceConfig(ldap),
        },
      )
    ).r.id as string;
    const job = await createJob(t, ds, {
      name: 'reconcile',
      kind: 'RECONCILE',
      baseDn: `ou=generated,${ldap.baseDn}`,
      options: { missing: 'delete', guard: { maxChanges: 2 } },
    });
    expect(await runNow(t, job.id)).toMatchObject({ status: 'SUCCEEDED', created: 30 });
    const local = (id: string) => Buffer.from(id, 'base64').toString().split(':')[1] as string;
    await h.db
      .sql`update sync_jobs set filter = '(&(objectClass=inetOrgPerson)(!(uid=u000001))(!(uid=u000002))(!(uid=u000003)))'
      where id = ${local(job.id)}`;

    const dry = await runNow(t, job.id, true);
    expect(dry).toMatchObject({ status: 'SUCCEEDED', deleted: 3, stagedChangeCount: 3 });
    const held = await runNow(t, job.id);
    expect(held).toMatchObject({ status: 'AWAITING_APPROVAL', deleted: 0, stagedChangeCount: 3 });
    expect(held.error).toMatch(/exceed the limit of 2/);
    expect(held.plan).toEqual([
      {
        action: 'DELETE',
        dn: `uid=u000001,ou=generated,${ldap.baseDn}`,
        user: { userName: 'u000001', active: true },
      },
      {
        action: 'DELETE',
        dn: `uid=u000002,ou=generated,${ldap.baseDn}`,
        user: { userName: 'u000002', active: true },
      },
      {
        action: 'DELETE',
        dn: `uid=u000003,ou=generated,${ldap.baseDn}`,
        user: { userName: 'u000003', active: true },
      },
    ]);

    const approved = await call(
      t,
      `mutation($id: ID!) { r: approveRun(id: $id) { __typename ... on Error { message }
        ... on SyncRun { status decision decidedBy } } }`,
      { id: held.id },
    );
    expect(approved.r).toMatchObject({
      status: 'QUEUED',
      decision: 'APPROVED',
      decidedBy: expect.stringMatching(/^token:/),
    });
    const applied = await finished(t, held.id);
    expect(applied).toMatchObject({ status: 'SUCCEEDED', deleted: 3 });
    const [left] = await h.db
      .sql`select count(*)::int as n from users where tenant_id = ${t.tenantId}`;
    expect(left?.n).toBe(27);
    // Approving twice is refused with a clear error.
    const again = await call(
      t,
      `mutation($id: ID!) { r: approveRun(id: $id) { __typename ... on Error { message } } }`,
      { id: held.id },
    );
    expect(again.r.message).toMatch(/only a run awaiting approval/);
  });
});
