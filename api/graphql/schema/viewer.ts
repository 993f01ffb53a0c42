import type { TokenScope } from '../../../db/schema/index.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { TenantRef } from './tenant.ts';
import { ApiTokenRef, TokenScopeEnum } from './token.ts';

const ViewerKind = builder.enumType('ViewerKind', {
  values: {
    TENANT_TOKEN: { description: 'A tenant API token' },
    OPERATOR: { description: 'The platform operator token' },
  },
});

const ViewerRef = builder.objectRef<GraphQLContext['viewer']>('Viewer').implement({
  description: 'Who is calling.',
  fields: (t) => ({
    kind: t.field({
      type: ViewerKind,
      resolve: (v) => (v.kind === 'operator' ? 'OPERATOR' : 'TENANT_TOKEN'),
    }),
    scopes: t.field({
      type: [TokenScopeEnum],
      resolve: (v): TokenScope[] => (v.kind === 'tenant' ? v.principal.scopes : []),
    }),
    token: t.field({
      type: ApiTokenRef,
      nullable: true,
      description: 'The token you called with (null for the operator).',
      resolve: (v, _, ctx) =>
        v.kind === 'tenant' ? ctx.loaders.token.load(v.principal.tokenId) : null,
    }),
    tenant: t.field({
      type: TenantRef,
      nullable: true,
      description: 'Your tenant (null for the operator).',
      resolve: (v, _, ctx) =>
        v.kind === 'tenant' ? ctx.loaders.tenant.load(v.principal.tenantId) : null,
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    authScopes: { admin: true, operator: true },
    resolve: (_, __, ctx) => ctx.viewer,
  }),
);
