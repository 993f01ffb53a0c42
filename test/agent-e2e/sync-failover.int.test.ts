/**
 * A hub replica killed (SIGKILL) in the middle of a sync run: the run's BullMQ lock expires,
 * the other replica takes it over and restarts it, and the directory ends up imported exactly
 * once — no duplicate users, no lost entries, the watermark only from the finished run.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { admin, directLdapSource } from '../../sync/engine/test-helpers.ts';
import { createSyncJob } from '../../sync/jobs/jobs.ts';
import { requestRun } from '../../sync/jobs/runs.ts';
import { syncSchedules } from '../../sync/jobs/schedules.ts';
import { createQueues } from '../../sync/queues.ts';
import { createHarness } from '../harness.ts';
import { type HubProcess, startHubProcess } from '../processes.ts';
import { startSlapd, type TestSlapd } from '../slapd.ts';
import { until } from '../until.ts';
import { hubEnv, queuePrefixOf, tempDir } from './setup.ts';

const USERS = 2000;
const h = createHarness();
let dir: string;
let slapd: TestSlapd;
let hubs: HubProcess[] = [];
let queues: ReturnType<typeof createQueues>;

beforeAll(async () => {
  dir = await tempDir('idhub-sync-failover-');
  const env = (name: string) =>
    hubEnv(dir, { IDHUB_REPLICA_NAME: name, IDHUB_SYNC_WORKERS: '1', IDHUB_SYNC_LOCK_MS: '2000' });
  [slapd, ...hubs] = await Promise.all([
    startSlapd({ generatedUsers: USERS }),
    startHubProcess(env('hub-1')),
    startHubProcess(env('hub-2')),
  ]);
  // The same queues as the two hubs.
  queues = createQueues(inject('redisUrl'), { prefix: queuePrefixOf(dir) });
}, 180_000);

afterAll(async () => {
  await Promise.all(hubs.map((p) => p.stop()));
  await queues?.byName['directory-sync'].obliterate({ force: true }).catch(() => undefined);
  await queues?.close();
  await slapd?.stop();
});

describe('a replica dying mid-run', () => {
  it('hands the run to the other replica, which restarts it without duplicates', async () => {
    const t = await h.tenant();
    const ds = await directLdapSource(h, t.tenantId, slapd);
    const job = await createSyncJob(h.db.db, syncSchedules(queues), t.tenantId, admin, {
      dataSourceId: ds.id,
      name: 'generated',
      kind: 'import_active',
      baseDn: `ou=generated,${slapd.baseDn}`,
      // Small pages: the run lasts long enough to be killed in the middle.
      options: { pageSize: 5 },
    });
    const { run } = await requestRun(h.db.db, queues, t.tenantId, job.id, { actor: admin });
    const started = new RegExp(`"runId":"${run.id}"[^\\n]*"msg":"sync run started"`);
    const owner = await Promise.any(hubs.map((hub) => hub.waitFor(started).then(() => hub)));
    const other = hubs.find((hub) => hub !== owner) as HubProcess;
    await until(
      async () => {
        const [r] = await h.db.sql`select created from sync_runs where id = ${run.id}`;
        return (r?.created ?? 0) >= 200;
      },
      'the run to be part-way',
      30_000,
    );
    owner.signal('SIGKILL');
    await owner.exited;
    const [mid] = await h.db.sql`select status, watermark from sync_runs where id = ${run.id}`;
    expect(mid).toEqual({ status: 'running', watermark: null });

    await other.waitFor(new RegExp(`"runId":"${run.id}"[^\\n]*restarted after an interruption`), {
      timeoutMs: 30_000,
    });
    const done = await until(
      async () => {
        const [r] = await h.db.sql`select status, attempts, created, unchanged, read, watermark
          from sync_runs where id = ${run.id}`;
        return r?.status === 'succeeded' ? r : undefined;
      },
      'the restarted run to finish',
      60_000,
      50,
    );
    expect(done.attempts).toBe(2);
    expect(done.read).toBe(USERS);
    // The restart re-read everything: what the dead replica had written is unchanged now.
    expect(done.created + done.unchanged).toBe(USERS);
    expect(done.unchanged).toBeGreaterThanOrEqual(200);
    expect(done.watermark).toMatchObject({ kind: 'openldap' });
    const [users] = await h.db.sql`select count(*)::int as n, count(distinct user_name)::int as d
      from users where tenant_id = ${t.tenantId}`;
    expect(users).toEqual({ n: USERS, d: USERS });
    const [links] = await h.db
      .sql`select count(*)::int as n from accounts where tenant_id = ${t.tenantId}`;
    expect(links?.n).toBe(USERS);
    hubs = hubs.filter((hub) => hub !== owner);
  });
});
