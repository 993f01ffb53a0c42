import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { GraphQLContext } from './context.ts';

/**
 * The one Pothos builder. It holds no types: each type lives in schema/<type>.ts with its
 * queries and mutations, and schema/index.ts imports them all.
 *
 * Plugin order: scope-auth first so no other plugin's wrapper runs before authorization.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: {
    /** A tenant token carrying the `admin` scope: everything inside its tenant. */
    admin: boolean;
    /** The platform operator token: tenant management. */
    operator: boolean;
  };
  /** Every connection answers its total lazily: counting costs a query, so only when asked. */
  Connection: { totalCount: () => Promise<number> };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
    /** A JSON object (schema/json.ts). */
    JSON: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, ErrorsPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      admin: ctx.viewer.kind === 'tenant' && ctx.viewer.principal.scopes.includes('admin'),
      operator: ctx.viewer.kind === 'operator',
    }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    // node/nodes answer only what the caller may see: loaders filter by the caller's tenant.
    nodeQueryOptions: { authScopes: { admin: true, operator: true } },
    nodesQueryOptions: { authScopes: { admin: true, operator: true } },
  },
  errors: { defaultTypes: [] },
});

builder.scalarType('DateTime', {
  description: 'An ISO 8601 timestamp in UTC.',
  serialize: (d) => d.toISOString(),
  parseValue: (v) => {
    const d = typeof v === 'string' ? new Date(v) : null;
    if (!d || Number.isNaN(d.getTime())) throw new TypeError('DateTime must be an ISO 8601 string');
    return d;
  },
});

builder.queryType({});
builder.mutationType({});

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'How many there are in all.', resolve: (c) => c.totalCount() }),
);
builder.mutationType({});
