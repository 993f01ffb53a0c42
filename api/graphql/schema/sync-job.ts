import { encodeGlobalID } from '@pothos/plugin-relay';
import { and, eq, sql } from 'drizzle-orm';
import { syncJobs } from '../../../db/schema/index.ts';
import {
  createSyncJob,
  deleteSyncJob,
  type SyncJobPatch,
  setSyncJobEnabled,
  updateSyncJob,
} from '../../../sync/jobs/jobs.ts';
import { syncSchedules } from '../../../sync/jobs/schedules.ts';
import { nextRunAt } from '../../../sync/jobs/validate.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { type SyncJobRow, syncJobRow } from '../loaders-sync.ts';
import { tablePage } from '../table-page.ts';
import { DeletePayload, identityActor, isKind, requireId } from './common.ts';
import { DataSourceRef } from './data-source.ts';
import { domain, mutationErrors, queryInput } from './errors.ts';
import { JsonRef } from './json.ts';

export const SyncJobRef = builder.objectRef<SyncJobRow>('SyncJob');

const SyncJobKind = builder.enumType('SyncJobKind', {
  values: {
    IMPORT_ACTIVE: { value: 'import_active', description: 'Create/update users as active.' },
    IMPORT_INACTIVE: { value: 'import_inactive', description: 'Users end inactive (cascade).' },
    RECONCILE: { value: 'reconcile', description: 'Full read; handles entries that vanished.' },
  } as const,
});
const SyncScope = builder.enumType('SyncScope', {
  description: 'LDAP search scope below the base DN.',
  values: { BASE: { value: 'base' }, ONE: { value: 'one' }, SUB: { value: 'sub' } } as const,
});

builder.node(SyncJobRef, {
  description: 'A scheduled directory import of an LDAP data source.',
  authScopes: { admin: true },
  id: { resolve: (j) => j.id },
  isTypeOf: isKind('SyncJob'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.syncJob.load(id))),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique in your tenant (case-insensitive).' }),
    kind: t.field({ type: SyncJobKind, resolve: (j) => j.jobKind }),
    dataSource: t.field({
      type: DataSourceRef,
      resolve: async (j, _, ctx) => {
        const ds = await ctx.loaders.dataSource.load(j.dataSourceId);
        if (!ds) throw new Error('sync job without its data source');
        return ds;
      },
    }),
    cron: t.exposeString('cron', {
      nullable: true,
      description: 'Five-field cron (or @hourly, @daily, …); null: runs by hand only.',
    }),
    timezone: t.exposeString('timezone', { description: 'IANA time zone the cron runs in.' }),
    enabled: t.exposeBoolean('enabled', { description: 'Whether its schedule fires.' }),
    nextRunAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the schedule fires next; null when disabled or without cron.',
      resolve: (j) => (j.enabled ? nextRunAt(j.cron, j.timezone) : null),
    }),
    baseDn: t.exposeString('baseDn', { nullable: true }),
    scope: t.field({ type: SyncScope, resolve: (j) => j.scope }),
    filter: t.exposeString('filter', { nullable: true, description: 'LDAP filter of its users.' }),
    mapping: t.field({ type: JsonRef, resolve: (j) => j.mapping }),
    correlation: t.field({ type: JsonRef, resolve: (j) => j.correlation }),
    options: t.field({ type: JsonRef, resolve: (j) => j.options }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  syncJob: t.field({
    type: SyncJobRef,
    nullable: true,
    description: 'A sync job by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'SyncJob');
      return local ? ctx.loaders.syncJob.load(local) : null;
    },
  }),
  syncJobs: t.connection({
    nullable: true,
    type: SyncJobRef,
    description: 'Sync jobs of your tenant, oldest first.',
    authScopes: { admin: true },
    args: { dataSource: t.arg.id({ description: 'Only the jobs of this data source.' }) },
    resolve: (_, args, ctx) =>
      queryInput(() => {
        const tenantId = tenantOf(ctx);
        const ds = args.dataSource == null ? null : localId(args.dataSource, 'DataSource');
        // A data source id that is not one selects nothing (never another tenant's jobs).
        const bySource =
          args.dataSource == null ? undefined : ds ? eq(syncJobs.dataSourceId, ds) : sql`false`;
        return tablePage(
          ctx.db,
          {
            scope: JSON.stringify(['sync-jobs', tenantId, ds]),
            table: syncJobs,
            createdAt: syncJobs.createdAt,
            id: syncJobs.id,
            where: and(eq(syncJobs.tenantId, tenantId), bySource),
            map: syncJobRow,
          },
          args,
        );
      }),
  }),
}));

const jobFields = {
  cron: 'Five-field cron (minute hour day-of-month month day-of-week) or @hourly, @daily, …',
  timezone: 'IANA time zone of the cron (default UTC).',
  json: 'A JSON object; its contents are checked by the mapping engine.',
};

const CreateSyncJobInput = builder.inputType('CreateSyncJobInput', {
  fields: (t) => ({
    dataSource: t.id({ required: true, description: 'An LDAP data source of your tenant.' }),
    name: t.string({ required: true }),
    kind: t.field({ type: SyncJobKind, required: true }),
    cron: t.string({ description: `${jobFields.cron}; leave out to run by hand only.` }),
    timezone: t.string({ description: jobFields.timezone }),
    enabled: t.boolean({ defaultValue: true }),
    baseDn: t.string(),
    scope: t.field({ type: SyncScope, defaultValue: 'sub' }),
    filter: t.string({ description: 'LDAP filter selecting its users.' }),
    mapping: t.field({ type: JsonRef, description: jobFields.json }),
    correlation: t.field({ type: JsonRef, description: jobFields.json }),
    options: t.field({ type: JsonRef, description: jobFields.json }),
  }),
});

const UpdateSyncJobInput = builder.inputType('UpdateSyncJobInput', {
  description:
    'Fields left out keep their value; null clears cron, baseDn and filter. Validated as a whole.',
  fields: (t) => ({
    dataSource: t.id(),
    name: t.string(),
    kind: t.field({ type: SyncJobKind }),
    cron: t.string({ description: `${jobFields.cron}; null: by hand only.` }),
    timezone: t.string({ description: jobFields.timezone }),
    enabled: t.boolean(),
    baseDn: t.string(),
    scope: t.field({ type: SyncScope }),
    filter: t.string(),
    mapping: t.field({ type: JsonRef }),
    correlation: t.field({ type: JsonRef }),
    options: t.field({ type: JsonRef }),
  }),
});

/** The domain's patch from GraphQL input: a data source global id becomes its local id. */
function patchOf({ dataSource, ...rest }: typeof UpdateSyncJobInput.$inferInput): SyncJobPatch {
  return {
    ...rest,
    dataSourceId: dataSource == null ? undefined : requireId(dataSource, 'DataSource'),
  };
}

/** The leading arguments of every job write: pool, schedules, tenant, actor. */
const writer = (ctx: GraphQLContext) =>
  [ctx.db.db, syncSchedules(ctx.services.queues), tenantOf(ctx), identityActor(ctx)] as const;

/** enableSyncJob / disableSyncJob: the same patch of `enabled`, audited as what it is. */
const toggle = (enabled: boolean, description: string) =>
  builder.mutationField(enabled ? 'enableSyncJob' : 'disableSyncJob', (t) =>
    t.field({
      type: SyncJobRef,
      description,
      authScopes: { admin: true },
      errors: { types: mutationErrors, directResult: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }, ctx) =>
        domain(async () => {
          const local = requireId(id, 'SyncJob');
          const row = await setSyncJobEnabled(...writer(ctx), local, enabled);
          ctx.loaders.syncJob.clear(local);
          return syncJobRow(row);
        }),
    }),
  );
toggle(true, 'Enables a job: its schedule (when it has a cron) fires again.');
toggle(false, 'Disables a job: its schedule is removed; runs by hand stay possible.');

builder.mutationFields((t) => ({
  createSyncJob: t.field({
    type: SyncJobRef,
    description: 'Creates a sync job and, when enabled with a cron, its schedule.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: CreateSyncJobInput, required: true }) },
    resolve: (_, { input: { dataSource, ...input } }, ctx) =>
      domain(async () => {
        const dataSourceId = requireId(dataSource, 'DataSource');
        const row = await createSyncJob(...writer(ctx), { ...input, dataSourceId });
        return syncJobRow(row);
      }),
  }),
  updateSyncJob: t.field({
    type: SyncJobRef,
    description: 'Changes a job; a changed cron or time zone replaces its schedule.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateSyncJobInput, required: true }),
    },
    resolve: (_, { id, input }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'SyncJob');
        const row = await updateSyncJob(...writer(ctx), local, patchOf(input));
        ctx.loaders.syncJob.clear(local);
        return syncJobRow(row);
      }),
  }),
  deleteSyncJob: t.field({
    type: DeletePayload,
    description: 'Deletes a job, its schedule and its run history.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'SyncJob');
        await deleteSyncJob(...writer(ctx), local);
        ctx.loaders.syncJob.clear(local);
        return { deletedId: encodeGlobalID('SyncJob', local) };
      }),
  }),
}));
