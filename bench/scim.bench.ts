/**
 * `npm run bench:scim` — SCIM on a 100k-user tenant against the DESIGN.md budgets. Every row
 * carries a raw-SQL baseline measured in the same run, so ratios survive a noisy machine.
 * A benchmark, not a test: it exits 0 when a budget fails, and says so.
 *
 * Env: BENCH_USERS (100000), BENCH_DB_POOL (hub and baseline pool size), BENCH_DURATION
 * (seconds per throughput run, 10), BENCH_HUB=child|in-process (child), BENCH_ROWS
 * (filter,paging,patch,post: a subset, for iterating).
 */
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../db/client.ts';
import type { BenchContext } from './lib/context.ts';
import { filterCodePathRow, filterRow } from './lib/filter.ts';
import { type BenchHub, type HubOptions, startHubChild, startHubInProcess } from './lib/hub.ts';
import { memoryRow } from './lib/memory.ts';
import { cursorPagingRows, indexPagingRow } from './lib/paging.ts';
import { seedTenant } from './lib/seed.ts';
import { type BenchServices, startBenchServices } from './lib/services.ts';
import { budgetSummary, fmt, markdownTable, type Row } from './lib/table.ts';
import { patchRows, postRow } from './lib/writes.ts';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
/**
 * Pool size of the hub (IDHUB_DB_POOL) and of the baseline client. Measured on 2 cores with
 * 32 connections on the filter row: 5 → ~1,000 req/s, 10 → ~1,100, 20 → ~1,100 with a worse
 * p99, 32 → ~800 with p99 ~120 ms. More backends than cores only add contention.
 */
const POOL = Number(process.env.BENCH_DB_POOL ?? 10);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 32;
/** The whole run is bounded; past this everything is stopped and the run fails. */
const WATCHDOG_MS = 6 * 60_000;
/** BENCH_ROWS=filter,paging,patch,post runs a subset (all by default). */
const ROWS = new Set((process.env.BENCH_ROWS ?? 'filter,paging,patch,post').split(','));
const wanted = (row: string) => ROWS.has(row);
/**
 * `child` (default): the hub runs as `idhub serve` in its own process — its own event loop and
 * heap, so autocannon's CPU is not charged to it and VmRSS/VmHWM are the hub's alone.
 * `in-process` (as test/harness.ts builds it) measured the same req/s within noise (~770 vs
 * ~740–1,100) but its RSS includes the seeding data, autocannon and the baseline clients.
 */
const HUB_MODE = process.env.BENCH_HUB === 'in-process' ? 'in-process' : 'child';

const started = performance.now();
const progress = (msg: string) =>
  process.stderr.write(
    `[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`,
  );

const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
/** Stops what was started, last first; every caller (end, error, signal) awaits the same run. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      await fn().catch((e: unknown) =>
        progress(`cleanup: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
  })();
  return cleaning;
}

async function startHub(services: BenchServices): Promise<BenchHub> {
  const opts: HubOptions = {
    databaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    poolSize: POOL,
    dataDir: path.join(services.dir, 'hub'),
  };
  return HUB_MODE === 'child' ? startHubChild(opts) : startHubInProcess(opts);
}

async function run(): Promise<void> {
  progress('starting embedded PostgreSQL and redis-server');
  const services = await startBenchServices();
  cleanups.push(() => services.stop());
  const db: Db = createDb(services.databaseUrl, { max: POOL });
  cleanups.push(() => db.close());
  progress(`seeding ${USERS} users`);
  const t = performance.now();
  const seeded = await seedTenant(db, USERS);
  const seedSeconds = (performance.now() - t) / 1000;
  const hub = await startHub(services);
  cleanups.push(() => hub.stop());
  const idle = hub.memory();
  progress(`hub up (${hub.mode}) at ${hub.url}`);
  const ctx: BenchContext = {
    hub,
    db,
    seeded,
    connections: CONNECTIONS,
    duration: DURATION,
    progress,
  };
  const rows: Row[] = [];
  if (wanted('filter')) rows.push(await filterRow(ctx), await filterCodePathRow(ctx));
  if (wanted('paging')) rows.push(await indexPagingRow(ctx), ...(await cursorPagingRows(ctx)));
  if (wanted('patch')) rows.push(...(await patchRows(ctx)));
  if (wanted('post')) rows.push(await postRow(ctx));
  rows.push(memoryRow(hub, idle));
  report(rows, seeded.timings, seedSeconds);
}

function report(rows: Row[], timings: Record<string, number>, seedSeconds: number): void {
  const steps = Object.entries(timings)
    .map(([k, v]) => `${k} ${fmt.s(v)}`)
    .join(', ');
  const out = [
    '',
    `## SCIM benchmark (${USERS.toLocaleString('en-US')} users)`,
    '',
    `${os.cpus().length} cores, Node ${process.version}; hub ${HUB_MODE === 'child' ? 'as a child process (`idhub serve`)' : 'in this process'}, ` +
      `DB pool ${POOL} (hub and baseline each); embedded PostgreSQL with fsync/synchronous_commit off (test settings); loopback only.`,
    `Seeding: ${fmt.s(seedSeconds)} total (${steps}).`,
    '',
    markdownTable(rows),
    '',
    'Budgets:',
    budgetSummary(rows),
    '',
    `Total bench time ${fmt.s((performance.now() - started) / 1000)}.`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const watchdog = setTimeout(() => {
  progress(`watchdog: still running after ${WATCHDOG_MS / 1000} s, stopping`);
  cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping services`);
    cleanup().finally(() => process.exit(130));
  });
}

try {
  await run();
} catch (e) {
  progress(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
