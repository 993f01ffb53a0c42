import { encodeGlobalID } from '@pothos/plugin-relay';
import { eq } from 'drizzle-orm';
import { redactDataSourceConfig } from '../../../agent/connectors/direct.ts';
import {
  createDataSource,
  type DataSourcePatch,
  deleteDataSource,
  updateDataSource,
} from '../../../agent/gateway/registry.ts';
import { dataSources } from '../../../db/schema/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { type DataSourceRow, dataSourceRow } from '../loaders-agents.ts';
import { tablePage } from '../table-page.ts';
import { AgentRef } from './agent.ts';
import { DeletePayload, identityActor, isKind, requireId } from './common.ts';
import { domain, mutationErrors, queryInput } from './errors.ts';
import { JsonRef } from './json.ts';

export const DataSourceRef = builder.objectRef<DataSourceRow>('DataSource');

export const DataSourceKind = builder.enumType('DataSourceKind', {
  values: { LDAP: { value: 'ldap' }, SQL: { value: 'sql' }, SCIM: { value: 'scim' } } as const,
});

builder.node(DataSourceRef, {
  description:
    'A system idhub reads or writes (LDAP/AD, SQL, SCIM): reached by the hub itself, or ' +
    'through the agents of its group when agentEnabled.',
  authScopes: { admin: true },
  id: { resolve: (s) => s.id },
  isTypeOf: isKind('DataSource'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.dataSource.load(id))),
  fields: (t) => ({
    name: t.exposeString('name', {
      description: 'Unique in your tenant; agents know the data source by this name.',
    }),
    kind: t.field({ type: DataSourceKind, resolve: (s) => s.sourceKind }),
    agentEnabled: t.exposeBoolean('agentEnabled'),
    agentGroup: t.exposeString('agentGroup'),
    config: t.field({
      type: JsonRef,
      description:
        'Its settings, secrets shown as "[redacted]" (send them back unchanged to keep them).',
      resolve: (s) => redactDataSourceConfig(s.config),
    }),
    agents: t.field({
      type: [AgentRef],
      description: 'The active agents that serve it (its group); empty when reached directly.',
      resolve: (s, _, ctx) =>
        s.agentEnabled ? ctx.loaders.activeAgentsOfGroup.load(s.agentGroup) : [],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  dataSource: t.field({
    type: DataSourceRef,
    nullable: true,
    description: 'A data source by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'DataSource');
      return local ? ctx.loaders.dataSource.load(local) : null;
    },
  }),
  dataSources: t.connection({
    nullable: true,
    type: DataSourceRef,
    description: 'Data sources of your tenant, oldest first.',
    authScopes: { admin: true },
    resolve: (_, args, ctx) =>
      queryInput(() => {
        const tenantId = tenantOf(ctx);
        return tablePage(
          ctx.db,
          {
            scope: JSON.stringify(['data-sources', tenantId]),
            table: dataSources,
            createdAt: dataSources.createdAt,
            id: dataSources.id,
            where: eq(dataSources.tenantId, tenantId),
            map: dataSourceRow,
          },
          args,
        );
      }),
  }),
}));

const configHelp =
  'agentEnabled: false — the full connector config, secrets included (the hub connects). ' +
  "agentEnabled: true — non-secret settings only: secrets stay in the agent's application.yaml.";

const CreateDataSourceInput = builder.inputType('CreateDataSourceInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: '1–64 of A-Z a-z 0-9 . _ -, starting alnum' }),
    kind: t.field({ type: DataSourceKind, required: true }),
    agentEnabled: t.boolean({ required: true }),
    agentGroup: t.string({ description: 'The agent group serving it (default "default").' }),
    config: t.field({ type: JsonRef, description: `Default {}. ${configHelp}` }),
  }),
});

const UpdateDataSourceInput = builder.inputType('UpdateDataSourceInput', {
  description: 'Fields left out keep their value; the result is validated as a whole.',
  fields: (t) => ({
    name: t.string(),
    kind: t.field({ type: DataSourceKind }),
    agentEnabled: t.boolean(),
    agentGroup: t.string(),
    config: t.field({
      type: JsonRef,
      description: `Replaces the config; "[redacted]" values keep the stored secret. ${configHelp}`,
    }),
  }),
});

/** Drops nulls: in an update, a null field means "leave as is", like an absent one. */
const patchOf = (input: Record<string, unknown>): DataSourcePatch =>
  Object.fromEntries(Object.entries(input).filter(([, v]) => v != null)) as DataSourcePatch;

builder.mutationFields((t) => ({
  createDataSource: t.field({
    type: DataSourceRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: CreateDataSourceInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const row = await createDataSource(ctx.db.db, tenantOf(ctx), identityActor(ctx), {
          ...input,
          config: input.config ?? {},
        });
        return dataSourceRow(row);
      }),
  }),
  updateDataSource: t.field({
    type: DataSourceRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateDataSourceInput, required: true }),
    },
    resolve: (_, { id, input }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'DataSource');
        const row = await updateDataSource(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          local,
          patchOf(input),
        );
        ctx.loaders.dataSource.clear(local);
        return dataSourceRow(row);
      }),
  }),
  deleteDataSource: t.field({
    type: DeletePayload,
    description: 'Deletes a data source and its queued agent commands.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'DataSource');
        await deleteDataSource(ctx.db.db, tenantOf(ctx), identityActor(ctx), local);
        ctx.loaders.dataSource.clear(local);
        return { deletedId: encodeGlobalID('DataSource', local) };
      }),
  }),
}));
