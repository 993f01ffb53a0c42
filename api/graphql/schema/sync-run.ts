import { cancelRun, requestRun, type SyncRunRecord } from '../../../sync/jobs/runs.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { runsPage, type SyncRunRow, syncRunRow } from '../loaders-sync.ts';
import { identityActor, isKind, requireId } from './common.ts';
import { domain, mutationErrors, queryInput } from './errors.ts';
import { SyncJobRef } from './sync-job.ts';

/** Runs of sync jobs: the SyncRun node, SyncJob.runs, runSyncJob and cancelRun. */
export const SyncRunRef = builder.objectRef<SyncRunRow>('SyncRun');
const SyncRunStatus = builder.enumType('SyncRunStatus', {
  values: {
    QUEUED: { value: 'queued' },
    RUNNING: { value: 'running' },
    SUCCEEDED: { value: 'succeeded' },
    FAILED: { value: 'failed' },
    AWAITING_APPROVAL: { value: 'awaiting_approval' },
    CANCELLED: { value: 'cancelled' },
  } as const,
});
const SyncTrigger = builder.enumType('SyncTrigger', {
  values: { SCHEDULE: { value: 'schedule' }, MANUAL: { value: 'manual' } } as const,
});
const SyncRunMode = builder.enumType('SyncRunMode', {
  description: 'FULL reads every selected entry; DELTA only those changed since the watermark.',
  values: { FULL: { value: 'full' }, DELTA: { value: 'delta' } } as const,
});
const PlanDecision = builder.enumType('PlanDecision', {
  values: { APPROVED: { value: 'approved' }, REJECTED: { value: 'rejected' } } as const,
});
/** Milliseconds from start to finish (to now while running); null before it starts. */
const durationMs = (r: SyncRunRow) =>
  r.startedAt ? (r.finishedAt ?? new Date()).getTime() - r.startedAt.getTime() : null;

builder.node(SyncRunRef, {
  description: 'One execution of a sync job.',
  authScopes: { admin: true },
  id: { resolve: (r) => r.id },
  isTypeOf: isKind('SyncRun'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.syncRun.load(id))),
  fields: (t) => ({
    job: t.field({
      type: SyncJobRef,
      resolve: async (r, _, ctx) => {
        const job = await ctx.loaders.syncJob.load(r.jobId);
        if (!job) throw new Error('sync run without its job');
        return job;
      },
    }),
    status: t.field({ type: SyncRunStatus, resolve: (r) => r.status }),
    dryRun: t.exposeBoolean('dryRun', { description: 'Computes the plan, applies nothing.' }),
    trigger: t.field({ type: SyncTrigger, resolve: (r) => r.trigger }),
    triggeredBy: t.exposeString('triggeredBy', {
      nullable: true,
      description: '`token:<id>`, `operator` or `system:<name>`.',
    }),
    cancelRequested: t.exposeBoolean('cancelRequested', {
      description: 'Cancel asked while running; the worker stops at its next checkpoint.',
    }),
    read: t.exposeInt('read', { description: 'Directory entries read.' }),
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated'),
    unchanged: t.exposeInt('unchanged'),
    deactivated: t.exposeInt('deactivated', {
      description: 'Users deactivated (with the cascade).',
    }),
    deleted: t.exposeInt('deleted', {
      description: 'Users deleted (reconcile with the delete policy).',
    }),
    failed: t.exposeInt('failed', {
      description: 'Entries that could not be applied (see errors).',
    }),
    skipped: t.exposeInt('skipped', {
      description: 'Entries read twice in one run (counted once).',
    }),
    mode: t.field({ type: SyncRunMode, nullable: true, resolve: (r) => r.mode }),
    attempts: t.exposeInt('attempts', {
      description:
        'Times a worker started it: above 1 after an interruption (it restarted safely).',
    }),
    progressAt: t.expose('progressAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Last time its counters moved: poll this run for live progress.',
    }),
    decision: t.field({ type: PlanDecision, nullable: true, resolve: (r) => r.decision }),
    decidedBy: t.exposeString('decidedBy', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    stagedChangeCount: t.int({
      description: 'Deactivations/deletions it planned (held for approval, or shown by a dry run).',
      resolve: (r, _, ctx) => ctx.loaders.stagedChangeCount.load(r.id),
    }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.int({ nullable: true, resolve: durationMs }),
    throughput: t.float({
      nullable: true,
      description: 'Entries read per second, once finished.',
      resolve: (r) => {
        const ms = durationMs(r);
        return r.finishedAt && ms ? (r.read * 1000) / ms : null;
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

/** A mutation on one run by global id: the domain call, then the run as it is now. */
export const onRun = (
  ctx: GraphQLContext,
  id: string,
  act: (runId: string) => Promise<SyncRunRecord>,
): Promise<SyncRunRow> =>
  domain(async () => {
    const local = requireId(id, 'SyncRun');
    const run = await act(local);
    ctx.loaders.syncRun.clear(local);
    return syncRunRow(run);
  });

builder.objectField(SyncJobRef, 'runs', (t) =>
  t.connection({
    type: SyncRunRef,
    description: 'Its runs, newest first.',
    resolve: (j, args, ctx) => queryInput(() => runsPage(ctx.db, tenantOf(ctx), j.id, args)),
  }),
);

builder.queryFields((t) => ({
  syncRun: t.field({
    type: SyncRunRef,
    nullable: true,
    description: 'A sync run by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'SyncRun');
      return local ? ctx.loaders.syncRun.load(local) : null;
    },
  }),
}));

builder.mutationFields((t) => ({
  runSyncJob: t.field({
    type: SyncRunRef,
    description:
      'Starts a run now. While a run of the job is queued or running, returns that run instead.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }), dryRun: t.arg.boolean({ defaultValue: false }) },
    resolve: (_, { id, dryRun }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'SyncJob');
        const { run } = await requestRun(ctx.db.db, ctx.services.queues, tenantOf(ctx), local, {
          dryRun: dryRun ?? false,
          actor: identityActor(ctx),
        });
        return syncRunRow(run);
      }),
  }),
  cancelRun: t.field({
    type: SyncRunRef,
    description: 'Cancels a queued run at once; a running one stops at its next checkpoint.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      onRun(ctx, id, (run) =>
        cancelRun(ctx.db.db, ctx.services.queues, tenantOf(ctx), identityActor(ctx), run),
      ),
  }),
}));
