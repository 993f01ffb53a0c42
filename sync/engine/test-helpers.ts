/**
 * Test scaffolding for the sync engine: a harness, a private queue prefix (so no other file's
 * worker takes these runs), a data source, jobs, and runs executed by the engine in-process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, inject } from 'vitest';
import { createTestDataSource } from '../../agent/gateway/test-helpers.ts';
import type { Actor } from '../../api/identity/audit.ts';
import { syncRuns } from '../../db/schema/index.ts';
import type { Harness } from '../../test/harness.ts';
import type { TestSlapd } from '../../test/slapd.ts';
import { createSyncJob, type SyncJobInput } from '../jobs/jobs.ts';
import { requestRun, type SyncRunRecord } from '../jobs/runs.ts';
import { syncSchedules } from '../jobs/schedules.ts';
import { createQueues } from '../queues.ts';
import { type SyncWorker, type SyncWorkerDeps, startSyncWorker } from '../worker.ts';
import { executeRun } from './run.ts';

const run = promisify(execFile);

export const admin: Actor = { type: 'system', id: 'test-admin' };

type LdapServer = Pick<TestSlapd, 'url' | 'bindDn' | 'password' | 'baseDn'>;

/** The connector config of a test directory (slapd or Samba), as an admin would enter it. */
export const ldapSourceConfig = (d: LdapServer) => ({
  type: 'ldap',
  url: d.url,
  bindDn: d.bindDn,
  password: d.password,
  baseDn: d.baseDn,
});

/** A data source the hub connects to itself (no agent). */
export const directLdapSource = (h: Harness, tenantId: string, d: LdapServer) =>
  createTestDataSource(h, tenantId, { agentEnabled: false, config: ldapSourceConfig(d) });

/** The hub's directory-sync worker on the harness's services (use a private queue prefix). */
export const startTestWorker = (h: Harness, o: Partial<SyncWorkerDeps> = {}): SyncWorker =>
  startSyncWorker({
    db: h.db,
    redisUrl: inject('redisUrl'),
    queues: h.services.queues,
    gateway: h.services.gateway,
    logger: h.services.logger,
    // Other test files' runs share the database: no recovery unless a test asks for it.
    recoverEveryMs: 0,
    ...o,
  });

export function engineFixture(h: Harness) {
  const queues = createQueues(inject('redisUrl'), {
    prefix: `{idhub-engine-${process.pid}-${Math.random().toString(36).slice(2, 8)}}`,
  });
  afterAll(async () => {
    await queues.byName['directory-sync'].obliterate({ force: true }).catch(() => undefined);
    await queues.close();
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const engine = { db: h.db.db, gateway: h.services.gateway, logger };

  const directSource = (tenantId: string, ldap: LdapServer) => directLdapSource(h, tenantId, ldap);

  const job = (tenantId: string, input: Omit<SyncJobInput, 'name'> & { name?: string }) =>
    createSyncJob(h.db.db, syncSchedules(queues), tenantId, admin, {
      name: `job-${Math.random().toString(36).slice(2, 8)}`,
      ...input,
    });

  /** Requests a run and executes it here (as the worker would); returns the finished row. */
  async function runNow(
    tenantId: string,
    jobId: string,
    opts: { dryRun?: boolean } = {},
  ): Promise<SyncRunRecord> {
    const { run: queued } = await requestRun(h.db.db, queues, tenantId, jobId, {
      actor: admin,
      dryRun: opts.dryRun,
    });
    await executeRun(engine, queued.id);
    return reload(queued.id);
  }

  async function reload(runId: string): Promise<SyncRunRecord> {
    const [row] = await h.db.db.select().from(syncRuns).where(eq(syncRuns.id, runId));
    if (!row) throw new Error(`run ${runId} not found`);
    return row;
  }

  return { queues, engine, directSource, job, runNow, reload };
}

/** ldapmodify over ldapi as the directory's manager. */
export async function ldapModify(ldap: TestSlapd, ldif: string): Promise<void> {
  const child = run('ldapmodify', [
    '-x',
    '-H',
    ldap.ldapiUrl,
    '-D',
    ldap.bindDn,
    '-w',
    ldap.password,
  ]);
  child.child.stdin?.end(ldif);
  await child;
}
