/**
 * Sync jobs and runs as an administrator drives them (createSyncJob, updateSyncJob,
 * requestRun), each run waited for by polling its `sync_runs` row, its counters asserted, and
 * its time split into what the agent spent reading pages and what the rest of the run took.
 */
import type { Db } from '../../db/client.ts';
import type { SyncJobKind } from '../../db/schema/index.ts';
import { createSyncJob, type SyncJobRecord, updateSyncJob } from '../../sync/jobs/jobs.ts';
import { requestRun } from '../../sync/jobs/runs.ts';
import { syncSchedules } from '../../sync/jobs/schedules.ts';
import type { QueueRegistry } from '../../sync/queues.ts';
import { BENCH_ACTOR } from './sync-agent.ts';

const POLL_MS = 50;

export interface SyncCtx {
  db: Db;
  queues: QueueRegistry;
  tenantId: string;
  dataSourceId: string;
  baseDn: string;
  /** Agent run time per command id (from the agent's log). */
  agentRunMs: Map<string, number>;
  /** Longest a run may take before the bench gives up on it. */
  runTimeoutMs: number;
}

export const COUNTERS = [
  'read',
  'created',
  'updated',
  'unchanged',
  'deactivated',
  'failed',
  'skipped',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counters = Record<Counter, number>;

export interface RunResult {
  id: string;
  status: string;
  mode: string | null;
  counters: Counters;
  /** finished_at − started_at, seconds (the run itself). */
  seconds: number;
  /** requestRun → the bench saw it finished, seconds (queueing and polling included). */
  wallSeconds: number;
  /** LDAP search commands the run sent through the agent. */
  pages: number;
  /** Sum of the agent's own run time of those commands (reading pages from slapd), seconds. */
  agentSeconds: number;
  /** Sum of the commands' created → completed at the hub (SSE, agent, result upload), seconds. */
  commandSeconds: number;
}

export async function createJob(
  ctx: SyncCtx,
  name: string,
  kind: SyncJobKind,
  filter: string,
  options: Record<string, unknown>,
): Promise<SyncJobRecord> {
  return createSyncJob(ctx.db.db, syncSchedules(ctx.queues), ctx.tenantId, BENCH_ACTOR, {
    dataSourceId: ctx.dataSourceId,
    name,
    kind,
    baseDn: ctx.baseDn,
    scope: 'sub',
    filter,
    mapping: {},
    correlation: { attribute: 'userName' },
    options: { directory: 'openldap', ...options },
  });
}

export const setJobOptions = (ctx: SyncCtx, jobId: string, options: Record<string, unknown>) =>
  updateSyncJob(ctx.db.db, syncSchedules(ctx.queues), ctx.tenantId, BENCH_ACTOR, jobId, {
    options: { directory: 'openldap', ...options },
  });

interface RunRow extends Counters {
  id: string;
  status: string;
  mode: string | null;
  error: string | null;
  started: number | null;
  finished: number | null;
}

async function runRow(db: Db, runId: string): Promise<RunRow> {
  const [row] = await db.sql<RunRow[]>`
    select id, status, mode, error, read, created, updated, unchanged, deactivated, failed, skipped,
      extract(epoch from started_at) * 1000 as started,
      extract(epoch from finished_at) * 1000 as finished
    from sync_runs where id = ${runId}`;
  if (!row) throw new Error(`sync run ${runId} vanished`);
  return row;
}

/** The first per-entry errors a run recorded, for a failure message. */
async function runErrors(db: Db, runId: string): Promise<string> {
  const rows = await db.sql<{ entry: string; reason: string }[]>`
    select entry, reason from sync_run_errors where run_id = ${runId} order by created_at limit 5`;
  return rows.map((r) => `${r.entry}: ${r.reason}`).join('\n');
}

/** Pages the run read through the agent: search commands created while it ran. */
async function commandsOf(ctx: SyncCtx, row: RunRow) {
  const rows = await ctx.db.sql<{ id: string; ms: number }[]>`
    select id, extract(epoch from completed_at - created_at) * 1000 as ms
    from agent_commands
    where tenant_id = ${ctx.tenantId} and kind = 'search'
      and created_at >= to_timestamp(${Number(row.started) / 1000})
      and created_at <= to_timestamp(${Number(row.finished) / 1000})`;
  let agentMs = 0;
  let commandMs = 0;
  for (const r of rows) {
    agentMs += ctx.agentRunMs.get(r.id) ?? 0;
    commandMs += Number(r.ms);
  }
  return { pages: rows.length, agentSeconds: agentMs / 1000, commandSeconds: commandMs / 1000 };
}

/**
 * Runs a job now and waits for it. Throws when the run does not succeed (failed, cancelled,
 * held for approval, or still running after the timeout): a bench must not time a failed run.
 */
export async function runJob(ctx: SyncCtx, jobId: string): Promise<RunResult> {
  const t = performance.now();
  const { run, created } = await requestRun(ctx.db.db, ctx.queues, ctx.tenantId, jobId, {
    actor: BENCH_ACTOR,
  });
  if (!created) throw new Error(`job ${jobId} already had an active run ${run.id}`);
  const until = Date.now() + ctx.runTimeoutMs;
  let row = await runRow(ctx.db, run.id);
  while (row.status === 'queued' || row.status === 'running') {
    if (Date.now() > until) {
      throw new Error(`run ${run.id} still ${row.status} after ${ctx.runTimeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    row = await runRow(ctx.db, run.id);
  }
  const wallSeconds = (performance.now() - t) / 1000;
  if (row.status !== 'succeeded') {
    const errors = await runErrors(ctx.db, run.id);
    // A failed query's message carries its parameters (a whole page): keep the head.
    const error = row.error && row.error.length > 1500 ? `${row.error.slice(0, 1500)}…` : row.error;
    throw new Error(
      `run ${run.id} ended ${row.status}${error ? `: ${error}` : ''}${errors ? `\n${errors}` : ''}`,
    );
  }
  const counters = Object.fromEntries(COUNTERS.map((k) => [k, Number(row[k])])) as Counters;
  return {
    id: row.id,
    status: row.status,
    mode: row.mode,
    counters,
    seconds: (Number(row.finished) - Number(row.started)) / 1000,
    wallSeconds,
    ...(await commandsOf(ctx, row)),
  };
}

/** Fails the bench when a counter differs from what the run must have done. */
export function expectCounters(what: string, r: RunResult, expected: Partial<Counters>): void {
  const wrong = Object.entries(expected).filter(([k, v]) => r.counters[k as Counter] !== v);
  if (wrong.length) {
    throw new Error(
      `${what}: ${wrong.map(([k, v]) => `${k} = ${r.counters[k as Counter]}, expected ${v}`).join('; ')} (${countersText(r)})`,
    );
  }
}

export const countersText = (r: RunResult) =>
  COUNTERS.filter((k) => r.counters[k] !== 0)
    .map((k) => `${k} ${r.counters[k].toLocaleString('en-US')}`)
    .join(', ') || 'all counters 0';
