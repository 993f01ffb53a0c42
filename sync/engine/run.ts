/**
 * Executes one run of a sync job: claim it, read the directory page by page (through the
 * agent or directly — the gateway decides), apply each page (users.ts), then handle what a
 * complete read implies (reconcile: entries no longer selected), and finish.
 *
 * Safety rules:
 * - A run starts only from `queued` (a cancelled run is skipped); a run found `running` is a
 *   restart after its worker died — it starts over, which is safe because every write is
 *   keyed by the entry's anchor, and its counters start over with it.
 * - Nothing is deactivated or deleted for being absent unless the read completed: an error,
 *   a cancel or a lost agent ends the run before that step.
 * - Deactivations + deletions above the guard (count or share), or a read far smaller than
 *   the previous full read, hold the run in `awaiting_approval` with the plan stored.
 * - The delta watermark is read before the scan and committed with the run's final state,
 *   after every page's changes have committed.
 */
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AgentGateway } from '../../agent/gateway/types.ts';
import type { Entry } from '../../agent/protocol.ts';
import type { Actor } from '../../api/identity/audit.ts';
import type { Database } from '../../db/client.ts';
import {
  dataSources,
  syncJobs,
  syncRunCounters,
  syncRunErrors,
  syncRuns,
} from '../../db/schema/index.ts';
import { isStorageOutage, pgCode } from '../../scim/render.ts';
import type { SyncRunRecord } from '../jobs/runs.ts';
import {
  deltaFilter,
  parseWatermark,
  readWatermark,
  type Search,
  sameSource,
  type Watermark,
} from './directory.ts';
import { syncGroups } from './groups.ts';
import { resolveManagers } from './managers.ts';
import { applyStaged, type MissingPlan, markMissing, stageMissing } from './missing.ts';
import { organizationResolver } from './organizations.ts';
import {
  defaultFilter,
  type JobSettings,
  jobSettings,
  SettingsError,
  searchAttributes,
} from './settings.ts';
import {
  type PageContext,
  type PageCounts,
  planPage,
  prepareUserPage,
  writePlan,
  zeroCounts,
} from './users.ts';

export interface EngineDeps {
  db: Database;
  gateway: AgentGateway;
  logger: Logger;
  /** True once this replica shuts down: a run stops at its next page and is retried elsewhere. */
  stopping?: () => boolean;
}

/** Pages a run writes at once (each in its own transaction and connection). */
const WRITES_IN_FLIGHT = 2;

/** The actor every write of a run is audited as. */
export const syncActor = (runId: string): Actor => ({ type: 'system', id: `sync-run:${runId}` });

/** A problem that retrying cannot fix (bad settings, a deleted job): the run fails at once. */
export class RunFailure extends Error {}

class Cancelled extends Error {}

/** The replica is shutting down: the run stays `running` and its BullMQ job is retried. */
export class Interrupted extends Error {
  constructor() {
    super('the hub replica shut down during the run; it restarts on another worker');
  }
}

type RunRow = SyncRunRecord;

/**
 * queued → running, or a restart of a running run whose worker died. Returns the run and
 * whether it was already running (a restart), or undefined when it is neither.
 */
async function claim(
  db: Database,
  runId: string,
): Promise<{ run: RunRow; restart: boolean } | undefined> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ status: syncRuns.status })
      .from(syncRuns)
      .where(eq(syncRuns.id, runId))
      .for('update');
    if (before?.status !== 'queued' && before?.status !== 'running') return undefined;
    const [run] = await tx
      .update(syncRuns)
      .set({
        status: 'running',
        startedAt: sql`coalesce(${syncRuns.startedAt}, now())`,
        attempts: sql`${syncRuns.attempts} + 1`,
        progressAt: sql`now()`,
      })
      .where(eq(syncRuns.id, runId))
      .returning();
    return run && { run, restart: before.status === 'running' };
  });
}

/**
 * A restarted run starts over (its writes are idempotent): its counters, errors and plan; an
 * approved plan being applied keeps its read's counters and plan and recounts what it applies.
 */
async function resetForRestart(db: Database, run: RunRow): Promise<void> {
  await db.transaction(async (tx) => {
    if (run.decision === 'approved') {
      await tx.update(syncRuns).set({ deactivated: 0, deleted: 0 }).where(eq(syncRuns.id, run.id));
      return;
    }
    await tx
      .update(syncRuns)
      .set(Object.fromEntries(syncRunCounters.map((c) => [c, 0])))
      .where(eq(syncRuns.id, run.id));
    await tx.delete(syncRunErrors).where(eq(syncRunErrors.runId, run.id));
    await tx.execute(sql`delete from staged_changes where run_id = ${run.id}`);
  });
}

async function finish(
  db: Database,
  runId: string,
  set: Partial<Pick<RunRow, 'status' | 'error' | 'watermark'>> & { status: RunRow['status'] },
): Promise<void> {
  await db
    .update(syncRuns)
    .set({ ...set, finishedAt: sql`now()`, progressAt: sql`now()` })
    .where(and(eq(syncRuns.id, runId), eq(syncRuns.status, 'running')));
}

/** Adds a page's counters and its first errors; answers whether a cancel was requested. */
async function progress(
  db: Database,
  run: RunRow,
  c: Partial<PageCounts> & { deleted?: number },
  errors: { entry: string; reason: string }[],
  keep: number,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const add = (col: keyof typeof c) => sql`${sql.identifier(col)} + ${c[col] ?? 0}`;
    const [row] = await tx
      .update(syncRuns)
      .set({
        ...Object.fromEntries(syncRunCounters.map((k) => [k, add(k)])),
        progressAt: sql`now()`,
      })
      .where(eq(syncRuns.id, run.id))
      .returning({ cancel: syncRuns.cancelRequested, failed: syncRuns.failed });
    if (errors.length && row) {
      // The run's first `keep` errors: those counted before this page plus this page's.
      const room = keep - (row.failed - errors.length);
      if (room > 0) {
        await tx
          .insert(syncRunErrors)
          .values(
            errors.slice(0, room).map((e) => ({ tenantId: run.tenantId, runId: run.id, ...e })),
          );
      }
    }
    return row?.cancel ?? false;
  });
}

/** Yields pages, asking for the next one while the caller works on the current one. */
async function* prefetched(pages: AsyncIterable<Entry[]>): AsyncGenerator<Entry[]> {
  const it = pages[Symbol.asyncIterator]();
  let next = it.next();
  try {
    while (true) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      // A rejected prefetch must not go unhandled while the caller works.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

async function lastWatermark(db: Database, jobId: string): Promise<Watermark | undefined> {
  const [row] = await db
    .select({ watermark: syncRuns.watermark })
    .from(syncRuns)
    .where(
      and(
        eq(syncRuns.jobId, jobId),
        eq(syncRuns.status, 'succeeded'),
        eq(syncRuns.dryRun, false),
        isNotNull(syncRuns.watermark),
      ),
    )
    .orderBy(desc(syncRuns.finishedAt))
    .limit(1);
  return parseWatermark(row?.watermark);
}

/** The read of the previous complete full run (for the "far fewer entries" check). */
async function lastFullRead(
  db: Database,
  jobId: string,
  runId: string,
): Promise<number | undefined> {
  const [row] = await db.execute<{ read: number }>(sql`
    select read from sync_runs where job_id = ${jobId} and id <> ${runId} and mode = 'full'
      and status = 'succeeded' and not dry_run
    order by finished_at desc limit 1`);
  return row?.read;
}

interface Loaded {
  job: typeof syncJobs.$inferSelect;
  settings: JobSettings;
  baseDn: string;
}

async function load(db: Database, run: RunRow): Promise<Loaded> {
  const [row] = await db
    .select({ job: syncJobs, config: dataSources.config })
    .from(syncJobs)
    .innerJoin(dataSources, eq(dataSources.id, syncJobs.dataSourceId))
    .where(and(eq(syncJobs.id, run.jobId), eq(syncJobs.tenantId, run.tenantId)));
  if (!row) throw new RunFailure('the sync job or its data source no longer exists');
  let settings: JobSettings;
  try {
    settings = jobSettings(row.job);
  } catch (e) {
    if (e instanceof SettingsError) throw new RunFailure(`invalid job settings: ${e.message}`);
    throw e;
  }
  const configured = typeof row.config.baseDn === 'string' ? row.config.baseDn : undefined;
  const baseDn = row.job.baseDn ?? configured;
  if (!baseDn) {
    throw new RunFailure(
      "the job has no base DN and the data source's is not known to the hub (it is kept on the agent): set the job's baseDn",
    );
  }
  return { job: row.job, settings, baseDn };
}

/** Runs (or restarts) one run to its end. Infrastructure errors propagate for a retry. */
export async function executeRun(deps: EngineDeps, runId: string): Promise<void> {
  const { db, logger } = deps;
  const claimed = await claim(db, runId);
  if (!claimed) {
    logger.info({ runId }, 'sync run no longer queued; skipped');
    return;
  }
  const { run } = claimed;
  if (claimed.restart) {
    logger.warn({ runId, attempt: run.attempts }, 'sync run restarted after an interruption');
    await resetForRestart(db, run);
  }
  const log = logger.child({ runId, jobId: run.jobId, tenantId: run.tenantId });
  try {
    if (run.decision === 'approved') {
      const { job, baseDn } = await load(db, run);
      const done = await applyStaged(db, run, syncActor(run.id), (c) =>
        progress(db, run, c, [], 0),
      );
      await markMissing(db, run, job.dataSourceId, baseDn);
      await finish(db, run.id, { status: 'succeeded' });
      log.info(done, 'approved plan applied');
      return;
    }
    await scan(deps, run, log);
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    if (e instanceof Cancelled) {
      await finish(db, run.id, { status: 'cancelled', error: 'cancelled on request' });
      log.info('sync run cancelled');
      return;
    }
    if (e instanceof RunFailure || !isInfrastructure(e)) {
      // Retrying cannot fix bad settings or a defect; an outage (below) is retried.
      const message = e instanceof RunFailure ? e.message : `internal error: ${describe(e)}`;
      await finish(db, run.id, { status: 'failed', error: message });
      log.warn({ err: e }, 'sync run failed');
      return;
    }
    throw e;
  }
}

/** Marks a run failed after its last attempt (called by the worker). */
export async function failRun(db: Database, runId: string, message: string): Promise<void> {
  await finish(db, runId, { status: 'failed', error: message });
}

async function scan(deps: EngineDeps, run: RunRow, log: Logger): Promise<void> {
  const { db, gateway } = deps;
  const { job, settings, baseDn } = await load(db, run);
  const search: Search = (payload) =>
    gateway.search(run.tenantId, job.dataSourceId, payload, { timeoutMs: 120_000 });
  const filter = job.filter ?? defaultFilter(job.kind, settings.options.directory);

  // The watermark is read before the scan; a directory without one gets full runs.
  let watermark: Watermark | undefined;
  try {
    watermark = await readWatermark(search, settings.options.directory, baseDn);
  } catch (e) {
    throw new RunFailure(`reading the directory failed: ${describe(e)}`);
  }
  const previous =
    job.kind !== 'reconcile' && settings.options.delta
      ? await lastWatermark(db, job.id)
      : undefined;
  const delta = previous && watermark && sameSource(previous, watermark) ? previous : undefined;
  const mode = delta ? 'delta' : 'full';
  await db.update(syncRuns).set({ mode }).where(eq(syncRuns.id, run.id));
  log.info({ mode, kind: job.kind, dryRun: run.dryRun }, 'sync run started');

  const actor = syncActor(run.id);
  const ctx: PageContext = {
    db,
    tenantId: run.tenantId,
    runId: run.id,
    systemId: job.dataSourceId,
    kind: job.kind,
    dryRun: run.dryRun,
    baseDn,
    settings,
    organizations: organizationResolver(db, run.tenantId, actor, {
      dryRun: run.dryRun,
      source: `ldap:${job.dataSourceId}`,
    }),
    actor,
  };
  const pages = search({
    base: baseDn,
    scope: job.scope,
    filter: delta ? deltaFilter(filter, delta) : filter,
    attributes: searchAttributes(settings),
    pageSize: settings.options.pageSize,
  });
  // A pipeline: the next page is read (prefetched) while this one is prepared (CPU) while
  // earlier ones are written. Up to WRITES_IN_FLIGHT pages are written at once, on their own
  // connections: their entries are distinct (anchors are unique in a read), so they lock
  // distinct users. A page that links existing users by attribute is planned and written only
  // once every earlier write has committed, so one identity is never linked twice.
  const total = zeroCounts();
  // Where the run's time goes (logged at its end): waiting for the directory, preparing pages,
  // waiting for earlier pages' writes.
  const spent = { readMs: 0, prepareMs: 0, writeWaitMs: 0 };
  let mark = performance.now();
  const charge = (k: keyof typeof spent) => {
    const now = performance.now();
    spent[k] += now - mark;
    mark = now;
  };
  const reading = prefetched(pages);
  const writes: Promise<boolean>[] = [];
  let cancelled = false;
  /** Waits for the oldest write (or all); a cancel seen by any write stops the run. */
  const settle = async (all: boolean) => {
    while (writes.length && (all || writes.length >= WRITES_IN_FLIGHT)) {
      if (await writes.shift()) cancelled = true;
    }
    if (cancelled) {
      await reading.return(undefined);
      throw new Cancelled();
    }
  };
  const drain = () => Promise.allSettled(writes);
  while (true) {
    let next: IteratorResult<Entry[]>;
    try {
      mark = performance.now();
      next = await reading.next();
      charge('readMs');
    } catch (e) {
      await drain();
      if (isInfrastructure(e)) throw e;
      // An incomplete read: nothing is deactivated or deleted for being absent.
      throw new RunFailure(
        `reading the directory failed after ${total.read} entries: ${describe(e)}`,
      );
    }
    if (next.done) break;
    const prepared = await prepareUserPage(ctx, next.value);
    charge('prepareMs');
    try {
      await settle(false);
      let plan = await planPage(ctx, prepared);
      if (plan.correlates && writes.length) {
        await settle(true);
        plan = await planPage(ctx, prepared);
      }
      charge('writeWaitMs');
      if (deps.stopping?.()) {
        await reading.return(undefined);
        throw new Interrupted();
      }
      const writing = writePlan(ctx, plan).then(({ counts, errors }) => {
        for (const k of Object.keys(total) as (keyof PageCounts)[]) total[k] += counts[k];
        return progress(db, run, counts, errors, settings.options.maxErrors);
      });
      // Awaited by settle; this keeps a failure from being reported unhandled meanwhile.
      writing.catch(() => undefined);
      writes.push(writing);
    } catch (e) {
      await drain();
      throw e;
    }
  }
  try {
    await settle(true);
  } catch (e) {
    await drain();
    throw e;
  }
  charge('writeWaitMs');

  // Manager DNs → user ids, once every user of the read has its link.
  const managers = await resolveManagers(ctx).catch((e: unknown) => {
    throw isInfrastructure(e) ? e : new RunFailure(`resolving managers failed: ${describe(e)}`);
  });
  if (managers) log.info({ managers }, 'managers resolved');

  if (settings.options.groups) {
    // Groups after users (members resolve through their account links), before reconcile.
    const { errors, counts } = await syncGroups(ctx, search, settings.options.groups).catch(
      (e: unknown) => {
        throw isInfrastructure(e) ? e : new RunFailure(`syncing the groups failed: ${describe(e)}`);
      },
    );
    log.info(counts, 'groups synced');
    if (await progress(db, run, { failed: counts.failed }, errors, settings.options.maxErrors)) {
      throw new Cancelled();
    }
  }

  if (job.kind === 'reconcile') {
    if (settings.options.missing !== 'ignore') {
      const plan = await stageMissing(db, run, job.dataSourceId, baseDn, settings);
      const held = run.dryRun
        ? undefined
        : holdReason(plan, settings, total.read, await lastFullRead(db, job.id, run.id));
      if (held) {
        await db
          .update(syncRuns)
          .set({
            status: 'awaiting_approval',
            error: held,
            finishedAt: sql`now()`,
            progressAt: sql`now()`,
          })
          .where(and(eq(syncRuns.id, run.id), eq(syncRuns.status, 'running')));
        log.warn({ ...plan, reason: held }, 'sync run held for approval');
        return;
      }
      if (run.dryRun) {
        // The plan stays staged for the admin to read; the counters say what would happen.
        await progress(db, run, { deactivated: plan.deactivate, deleted: plan.delete }, [], 0);
      } else {
        await applyStaged(db, run, ctx.actor, (c) => progress(db, run, c, [], 0));
      }
    }
    if (!run.dryRun) await markMissing(db, run, job.dataSourceId, baseDn);
  }

  await finish(db, run.id, {
    status: 'succeeded',
    // A dry run moves nothing; a delta-capable directory gets the watermark read before the scan.
    watermark: run.dryRun || !watermark ? null : (watermark as unknown as Record<string, unknown>),
  });
  log.info(
    {
      ...total,
      mode,
      ...Object.fromEntries(Object.entries(spent).map(([k, v]) => [k, Math.round(v)])),
    },
    'sync run succeeded',
  );
}

export type { MissingPlan };

/** Why a plan must wait for approval, or undefined when it may run. */
export function holdReason(
  plan: MissingPlan,
  settings: JobSettings,
  read: number,
  previousRead: number | undefined,
): string | undefined {
  const g = settings.options.guard;
  const n = plan.deactivate + plan.delete;
  if (n === 0) return undefined;
  if (n > g.maxChanges) {
    return `${n} deactivations/deletions exceed the limit of ${g.maxChanges}`;
  }
  if (plan.inScope > 0 && (n * 100) / plan.inScope > g.maxPercent) {
    return `${n} deactivations/deletions are ${((n * 100) / plan.inScope).toFixed(1)}% of ${plan.inScope} linked accounts (limit ${g.maxPercent}%)`;
  }
  if (
    previousRead !== undefined &&
    previousRead > 0 &&
    (read * 100) / previousRead < g.minReadPercent
  ) {
    return `the directory returned ${read} entries, against ${previousRead} in the previous full run (below ${g.minReadPercent}%)`;
  }
  return undefined;
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * PostgreSQL (or network) outages, and deadlocks or serialization failures between two pages
 * written at once (entries of two pages sharing a userName): the worker retries the run, which
 * restarts safely.
 */
const isInfrastructure = (e: unknown): boolean =>
  isStorageOutage(e) ||
  pgCode(e) === '40P01' ||
  pgCode(e) === '40001' ||
  /^E(CONN|PIPE|TIMEDOUT)/.test(String((e as { code?: unknown })?.code ?? ''));
