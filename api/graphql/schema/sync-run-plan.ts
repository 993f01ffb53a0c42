import { and, asc, eq } from 'drizzle-orm';
import { stagedChanges, syncRunErrors } from '../../../db/schema/index.ts';
import { approveRun, rejectRun } from '../../../sync/engine/approval.ts';
import { builder } from '../builder.ts';
import { tenantOf } from '../context.ts';
import { identityActor } from './common.ts';
import { mutationErrors } from './errors.ts';
import { onRun, SyncRunRef } from './sync-run.ts';
import { UserRef } from './user.ts';

/** What a run could not apply and what it plans (the mass-change guard), and deciding the plan. */
const StagedAction = builder.enumType('StagedAction', {
  values: { DEACTIVATE: { value: 'deactivate' }, DELETE: { value: 'delete' } } as const,
});

interface RunErrorShape {
  entry: string;
  reason: string;
}
const SyncRunErrorRef = builder.objectRef<RunErrorShape>('SyncRunError').implement({
  description: 'An entry a run could not apply.',
  fields: (t) => ({
    entry: t.exposeString('entry', { description: 'The entry: its DN.' }),
    reason: t.exposeString('reason'),
  }),
});

interface StagedShape {
  action: 'deactivate' | 'delete';
  dn: string | null;
  reason: string | null;
  userId: string | null;
}
const StagedChangeRef = builder.objectRef<StagedShape>('StagedChange').implement({
  description:
    'A deactivation or deletion a reconcile run planned (held for approval, or shown by a dry run).',
  fields: (t) => ({
    action: t.field({ type: StagedAction, resolve: (c) => c.action }),
    dn: t.exposeString('dn', { nullable: true, description: 'The entry it was linked to.' }),
    reason: t.exposeString('reason', { nullable: true }),
    user: t.field({
      type: UserRef,
      nullable: true,
      description: 'The user it applies to (null once deleted).',
      resolve: (c, _, ctx) => (c.userId ? ctx.loaders.user.load(c.userId) : null),
    }),
  }),
});

const MAX_LIST = 1000;
const bounded = (n: number | null | undefined, fallback: number) =>
  Math.max(0, Math.min(MAX_LIST, n ?? fallback));

builder.objectFields(SyncRunRef, (t) => ({
  errors: t.field({
    type: [SyncRunErrorRef],
    description: `The first entries it could not apply, with the reason (at most the job's options.maxErrors are kept; failed counts all).`,
    args: { first: t.arg.int({ defaultValue: 20 }) },
    resolve: (r, { first }, ctx) =>
      ctx.db.db
        .select({ entry: syncRunErrors.entry, reason: syncRunErrors.reason })
        .from(syncRunErrors)
        .where(and(eq(syncRunErrors.tenantId, r.tenantId), eq(syncRunErrors.runId, r.id)))
        .orderBy(asc(syncRunErrors.createdAt), asc(syncRunErrors.id))
        .limit(bounded(first, 20)),
  }),
  plan: t.field({
    type: [StagedChangeRef],
    description:
      'The deactivations/deletions it planned, by DN (stagedChangeCount is the total). Shown for a run awaiting approval, a dry run and a decided plan.',
    args: { first: t.arg.int({ defaultValue: 100 }), offset: t.arg.int({ defaultValue: 0 }) },
    resolve: (r, { first, offset }, ctx) =>
      ctx.db.db
        .select({
          action: stagedChanges.action,
          dn: stagedChanges.dn,
          reason: stagedChanges.reason,
          userId: stagedChanges.userId,
        })
        .from(stagedChanges)
        .where(and(eq(stagedChanges.tenantId, r.tenantId), eq(stagedChanges.runId, r.id)))
        .orderBy(asc(stagedChanges.dn), asc(stagedChanges.id))
        .limit(bounded(first, 100))
        .offset(Math.max(0, offset ?? 0)),
  }),
}));

builder.mutationFields((t) => ({
  approveRun: t.field({
    type: SyncRunRef,
    description:
      'Approves the plan of a run awaiting approval: it is queued again and applies exactly its staged changes. Refused while another run of the job is active, and for a stale plan (a later run has read the directory).',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      onRun(ctx, id, (run) =>
        approveRun(ctx.db.db, ctx.services.queues, tenantOf(ctx), identityActor(ctx), run),
      ),
  }),
  rejectRun: t.field({
    type: SyncRunRef,
    description:
      'Rejects the plan of a run awaiting approval: nothing is applied; the run ends cancelled.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      onRun(ctx, id, (run) => rejectRun(ctx.db.db, tenantOf(ctx), identityActor(ctx), run)),
  }),
}));
