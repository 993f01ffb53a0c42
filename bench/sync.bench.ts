/**
 * `npm run bench:sync` — directory sync of a 100k-user OpenLDAP through the real agent into an
 * empty tenant, against DESIGN.md's budgets: first import ≤ 4 × (raw paged read + COPY), the
 * job's second run with no changes ≤ 2 × the raw read, a delta of 1,000 changes ≤ 2 s, peak RSS
 * ≤ 400 MB for hub and agent. The baseline is measured in the same run. Every run's counters
 * (and the inactive import's cascade) are asserted: a failed run or a wrong count exits non-zero;
 * a missed budget is printed as FAIL and exits 0.
 *
 * Env: BENCH_SYNC_USERS (100000; inactive = min(10000, users/10), delta = min(1000, users/100)),
 * BENCH_SYNC_BASELINE_RUNS (3, median), BENCH_SYNC_HUB (child: `idhub serve`, its RSS its own —
 * the default; in-process: the hub and its worker in this process, for profiling and the worker's
 * log), BENCH_SYNC_LOG (keep the in-process worker's info log at this path).
 */
import os from 'node:os';
import path from 'node:path';
import { createTenant } from '../api/tenants.ts';
import { createDb } from '../db/client.ts';
import { procMemory } from './lib/hub.ts';
import { READ } from './lib/ldap-reads.ts';
import { startBenchServices } from './lib/services.ts';
import { startSyncAgent } from './lib/sync-agent.ts';
import { type Baseline, measureBaseline } from './lib/sync-baseline.ts';
import { type HubMode, startSyncHub } from './lib/sync-hub.ts';
import {
  baselineRows,
  type ImportRuns,
  importRows,
  memoryRow,
  timeSplit,
} from './lib/sync-report.ts';
import { createJob, expectCounters, runJob, type SyncCtx, setJobOptions } from './lib/sync-runs.ts';
import {
  cascadeCounts,
  cascadeText,
  expectCascade,
  expectUntouched,
  seedLinkage,
} from './lib/sync-seed.ts';
import {
  countMatching,
  lockUsers,
  retitle,
  type SyncSlapd,
  spreadUsers,
  startSyncSlapd,
  userUid,
} from './lib/sync-slapd.ts';
import { budgetSummary, fmt, markdownTable, type Row } from './lib/table.ts';

const USERS = Number(process.env.BENCH_SYNC_USERS ?? 100_000);
if (!Number.isInteger(USERS) || USERS < 100) {
  throw new Error(`BENCH_SYNC_USERS must be an integer ≥ 100, got ${process.env.BENCH_SYNC_USERS}`);
}
const INACTIVE = Math.min(10_000, Math.floor(USERS / 10));
const DELTA = Math.min(1_000, Math.floor(USERS / 100));
const BASELINE_RUNS = Number(process.env.BENCH_SYNC_BASELINE_RUNS ?? 3);
const HUB_MODE: HubMode = process.env.BENCH_SYNC_HUB === 'in-process' ? 'in-process' : 'child';
const LOCK_FILTER = '(pwdAccountLockedTime=*)';
const WATCHDOG_MS = 40 * 60_000;
const RUN_TIMEOUT_MS = 15 * 60_000;

const started = performance.now();
const progress = (msg: string) =>
  process.stderr.write(
    `[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`,
  );

const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
/** Stops what was started, last first; every path (end, error, signal, watchdog) awaits it. */
const cleanup = (): Promise<void> => {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      await fn().catch((e: unknown) =>
        progress(`cleanup: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
  })();
  return cleaning;
};

async function baselineFirst(
  slapd: SyncSlapd,
  databaseUrl: string,
  dir: string,
): Promise<Baseline> {
  // Its own small pool, closed before the hub starts: nothing of it counts in the hub's peak.
  const db = createDb(databaseUrl, { max: 2 });
  try {
    const tenantId = '00000000-0000-4000-8000-000000000000'; // the COPY table has no FK
    return await measureBaseline({ slapd, db, tenantId, dir, runs: BASELINE_RUNS, progress });
  } finally {
    await db.close();
  }
}

async function countUsers(ctx: SyncCtx, where: 'all' | 'active'): Promise<number> {
  const [row] = await ctx.db.sql<{ n: number }[]>`select count(*)::int as n from users
    where tenant_id = ${ctx.tenantId} and (${where} = 'all' or active)`;
  return row?.n ?? Number.NaN;
}

async function expectUsers(ctx: SyncCtx, what: string, where: 'all' | 'active', n: number) {
  const got = await countUsers(ctx, where);
  if (got !== n) throw new Error(`${what}: the tenant holds ${got} ${where} users, expected ${n}`);
}

/** The three runs of the import_active job and the delta; counters asserted after each. */
async function activeRuns(ctx: SyncCtx, slapd: SyncSlapd) {
  const job = await createJob(ctx, 'bench-import', 'import_active', READ.filter, {});
  progress(`first import of ${USERS} users`);
  const first = await runJob(ctx, job.id);
  expectCounters('first import', first, { read: USERS, created: USERS, updated: 0, failed: 0 });
  await expectUsers(ctx, 'first import', 'all', USERS);
  progress(`first import: ${fmt.s(first.seconds)}; second run, no changes`);
  const second = await runJob(ctx, job.id);
  expectCounters('second run', second, { created: 0, updated: 0, deactivated: 0, failed: 0 });
  progress(`second run: ${fmt.s(second.seconds)} (${second.mode}); full run, no changes`);
  await setJobOptions(ctx, job.id, { delta: false });
  const full = await runJob(ctx, job.id);
  expectCounters('full run, no changes', full, {
    read: USERS,
    unchanged: USERS,
    created: 0,
    updated: 0,
    failed: 0,
  });
  await setJobOptions(ctx, job.id, {});
  progress(`full run: ${fmt.s(full.seconds)}; modifying ${DELTA} entries (untimed)`);
  const title = `Bench retitled ${Date.now()}`;
  await retitle(slapd, spreadUsers(USERS, DELTA), title);
  const delta = await runJob(ctx, job.id);
  expectCounters('delta run', delta, { updated: DELTA, created: 0, deactivated: 0, failed: 0 });
  const [t] = await ctx.db.sql<{ n: number }[]>`select count(*)::int as n from users
    where tenant_id = ${ctx.tenantId} and doc->>'title' = ${title}`;
  if (t?.n !== DELTA) throw new Error(`delta run: ${t?.n} users carry the new title, not ${DELTA}`);
  progress(`delta run: ${fmt.s(delta.seconds)} (${delta.mode})`);
  return { first, second, full, delta };
}

/** Seeds linkage, locks INACTIVE entries, runs the import_inactive job, checks the cascade. */
async function inactiveRun(ctx: SyncCtx, slapd: SyncSlapd) {
  const lockedIds = spreadUsers(USERS, INACTIVE, 1); // disjoint from the delta set (offset 0)
  const locked = lockedIds.map(userUid);
  const control = spreadUsers(USERS, DELTA).map(userUid);
  progress(`seeding credentials, certificates, roles for ${INACTIVE} + ${DELTA} control users`);
  await seedLinkage(ctx.db, ctx.tenantId, locked);
  await seedLinkage(ctx.db, ctx.tenantId, control);
  progress(`locking ${INACTIVE} entries in slapd (untimed)`);
  await lockUsers(slapd, lockedIds);
  const matching = await countMatching(slapd, LOCK_FILTER);
  if (matching !== INACTIVE) throw new Error(`${matching} entries are locked, not ${INACTIVE}`);
  // A deliberate mass deactivation: the guard (500 / 10% by default) would hold it for approval.
  const job = await createJob(ctx, 'bench-inactive', 'import_inactive', LOCK_FILTER, {
    guard: { maxChanges: USERS, maxPercent: 100 },
  });
  const run = await runJob(ctx, job.id);
  expectCounters('inactive import', run, { deactivated: INACTIVE, created: 0, failed: 0 });
  const cascade = await cascadeCounts(ctx.db, ctx.tenantId, locked);
  expectCascade('inactive import cascade', cascade, INACTIVE);
  expectUntouched('control users', await cascadeCounts(ctx.db, ctx.tenantId, control), DELTA);
  await expectUsers(ctx, 'inactive import', 'active', USERS - INACTIVE);
  progress(`inactive import: ${fmt.s(run.seconds)}`);
  return { run, cascade: cascadeText(cascade) };
}

async function main(): Promise<void> {
  progress(`starting slapd with ${USERS} users (bench/ldap/start-slapd.sh + ppolicy)`);
  const slapd = await startSyncSlapd({ users: USERS, progress });
  cleanups.push(() => slapd.stop());
  progress(`slapd at ${slapd.url}, loaded in ${fmt.s(slapd.loadSeconds)}; PostgreSQL + Redis`);
  const bench = await startBenchServices();
  cleanups.push(() => bench.stop());
  const baseline = await baselineFirst(slapd, bench.databaseUrl, bench.dir);

  progress(`hub (${HUB_MODE}) with its sync worker`);
  const hub = await startSyncHub(bench, HUB_MODE, process.env.BENCH_SYNC_LOG);
  cleanups.push(() => hub.stop());
  const tenant = await createTenant(hub.db.db, `bench-sync-${Date.now()}`);
  const agent = await startSyncAgent({
    db: hub.db,
    tenantId: tenant.id,
    hubUrl: hub.url,
    ldap: slapd,
    dir: path.join(bench.dir, 'agent'),
    timeoutMs: 60_000,
  });
  cleanups.push(() => agent.stop());
  const agentIdle = procMemory(agent.pid);
  progress(`agent ${agent.pid} connected`);
  const ctx: SyncCtx = {
    db: hub.db,
    queues: hub.queues,
    tenantId: tenant.id,
    dataSourceId: agent.dataSourceId,
    baseDn: slapd.baseDn,
    agentRunMs: agent.runMs,
    runTimeoutMs: RUN_TIMEOUT_MS,
  };

  const active = await activeRuns(ctx, slapd);
  const inactive = await inactiveRun(ctx, slapd);
  const runs: ImportRuns = { ...active, inactive: inactive.run };
  const sizes = { users: USERS, delta: DELTA, inactive: INACTIVE };
  const rows: Row[] = [
    ...baselineRows(baseline, USERS),
    ...importRows(runs, baseline, sizes, inactive.cascade),
    memoryRow(
      hub.memoryLabel,
      hub.memory(),
      { cell: `when the hub started: RSS ${fmt.mb(hub.idleRssMb)}`, rssMb: hub.idleRssMb },
      hub.mode === 'child' ? 'own' : 'upper-bound',
    ),
    memoryRow(
      'Agent peak RSS (`idhub agent` process VmHWM, over all runs)',
      procMemory(agent.pid),
      {
        cell: `connected, idle: RSS ${fmt.mb(agentIdle.rssMb)}`,
        rssMb: agentIdle.rssMb,
      },
    ),
  ];
  report(rows, runs, slapd, process.env.BENCH_SYNC_LOG && hub.logFile);
}

function report(rows: Row[], runs: ImportRuns, slapd: SyncSlapd, logFile?: string): void {
  const out = [
    '',
    `## Sync benchmark: ${USERS.toLocaleString('en-US')} users, OpenLDAP → agent → hub`,
    '',
    `${os.cpus().length} cores, Node ${process.version}; private slapd (mdb, loopback, ppolicy), ` +
      `loaded with \`slapadd -q -w\` in ${fmt.s(slapd.loadSeconds)}; the agent binds as a non-root ` +
      `reader; hub ${HUB_MODE}, embedded PostgreSQL, redis-server. Jobs: default OpenLDAP mapping, ` +
      `correlation on userName, pages of ${READ.pageSize}, filter \`${READ.filter}\`. Run times are ` +
      'finished_at − started_at of the sync_runs row (wall: requestRun → seen finished, polled every 50 ms).',
    '',
    markdownTable(rows, {
      hub: 'Measured',
      baseline: 'Baseline (same run)',
      ratio: 'Measured / baseline',
    }),
    '',
    'Where the time went (agent_commands rows of each run, the agent’s own per-command times):',
    timeSplit('first import', runs.first),
    timeSplit('second run (no changes)', runs.second),
    timeSplit('full run (no changes)', runs.full),
    timeSplit('delta run', runs.delta),
    timeSplit('inactive import', runs.inactive),
    ...(logFile ? [`Sync worker log (info): ${logFile}`] : []),
    '',
    'Budgets:',
    budgetSummary(rows),
    '',
    `Total bench time ${fmt.s((performance.now() - started) / 1000)}.`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const watchdog = setTimeout(() => {
  progress(`watchdog: still running after ${WATCHDOG_MS / 60_000} min, stopping`);
  cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
for (const s of ['SIGINT', 'SIGTERM'] as const) {
  process.once(s, () => {
    progress(`${s}: stopping what the bench started`);
    cleanup().finally(() => process.exit(130));
  });
}
try {
  await main();
} catch (e) {
  process.stderr.write(
    `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
