import { encodeGlobalID } from '@pothos/plugin-relay';
import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { organizations } from '../../../db/schema/index.ts';
import {
  createOrganization,
  deleteOrganization,
  escapeLike,
  listChildren,
  moveOrganization,
  renameOrganization,
  setUserOrganization,
} from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { arrayConnection, type ConnectionShape } from '../paging.ts';
import { type OrganizationRow, tag, type UserRow } from '../rows.ts';
import { tablePage } from '../table-page.ts';
import { DeletePayload, identityActor, isKind, requireId } from './common.ts';
import { domain, mutationErrors, NotFoundError, queryInput } from './errors.ts';
import { UserRef } from './user.ts';

export const OrganizationRef = builder.objectRef<OrganizationRow>('Organization');

const emptyConnection = <T>(): ConnectionShape<T> => ({
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  totalCount: async () => 0,
});

builder.node(OrganizationRef, {
  description: 'An organisation of your tenant: a node of the organisation tree.',
  authScopes: { admin: true },
  id: { resolve: (o) => o.id },
  isTypeOf: isKind('Organization'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.organization.load(id))),
  fields: (t) => ({
    scimId: t.exposeID('id', { description: 'The id of this organisation over SCIM.' }),
    name: t.exposeString('name'),
    externalId: t.exposeString('externalId', { nullable: true }),
    source: t.exposeString('source', { description: 'admin, scim, or ldap:<data source> …' }),
    version: t.exposeInt('version'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    depth: t.int({
      description: '0 for a root organisation.',
      resolve: (o) => o.path.split('/').filter(Boolean).length - 1,
    }),
    parent: t.field({
      type: OrganizationRef,
      nullable: true,
      resolve: (o, _, ctx) => (o.parentId ? ctx.loaders.organization.load(o.parentId) : null),
    }),
    ancestors: t.field({
      type: [OrganizationRef],
      description: 'From the root down to the parent.',
      resolve: async (o, _, ctx) => {
        const ids = o.path.split('/').filter(Boolean).slice(0, -1);
        const rows = await ctx.loaders.organization.loadMany(ids);
        return rows.filter((r): r is OrganizationRow => !!r && !(r instanceof Error));
      },
    }),
    children: t.connection(
      {
        nullable: true,
        type: OrganizationRef,
        description: 'Direct children, by name; query `children` again for the next level.',
        resolve: async (o, args, ctx) =>
          queryInput(async () =>
            arrayConnection(
              `org-children:${o.id}`,
              await ctx.loaders.organizationChildren.load(o.id),
              (c) => c.id,
              (c) => c,
              args,
            ),
          ),
      },
      { name: 'OrganizationChildrenConnection' },
      { name: 'OrganizationChildrenEdge' },
    ),
  }),
});

builder.objectField(UserRef, 'organization', (t) =>
  t.field({
    type: OrganizationRef,
    nullable: true,
    description: 'The organisation the user belongs to (at most one).',
    resolve: (u, _, ctx) =>
      u.organizationId ? ctx.loaders.organization.load(u.organizationId) : null,
  }),
);

builder.queryFields((t) => ({
  organization: t.field({
    type: OrganizationRef,
    nullable: true,
    description: 'An organisation by global id (or SCIM id); null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Organization');
      return local ? ctx.loaders.organization.load(local) : null;
    },
  }),
  organizationTree: t.connection(
    {
      nullable: true,
      type: OrganizationRef,
      description: 'The root organisations, by name; walk down through `children`.',
      authScopes: { admin: true },
      resolve: (_, args, ctx) =>
        queryInput(async () => {
          const roots = await listChildren(ctx.db.db, tenantOf(ctx), null);
          return arrayConnection(
            'org-roots',
            roots.map((r) => tag('Organization', r)),
            (r) => r.id,
            (r) => r,
            args,
          );
        }),
    },
    { name: 'OrganizationTreeConnection' },
    { name: 'OrganizationTreeEdge' },
  ),
  organizations: t.connection({
    nullable: true,
    type: OrganizationRef,
    description:
      'Organisations of your tenant, oldest first: all, the roots, the children of `parentId`, or the subtree of `subtreeOf` (itself included).',
    authScopes: { admin: true },
    args: {
      parentId: t.arg.id({ description: 'Only the direct children of this organisation.' }),
      subtreeOf: t.arg.id({ description: 'Only this organisation and its descendants.' }),
      rootsOnly: t.arg.boolean({ description: 'Only organisations without a parent.' }),
    },
    resolve: (_, args, ctx) =>
      queryInput(async () => {
        const tenantId = tenantOf(ctx);
        const conds: (SQL | undefined)[] = [eq(organizations.tenantId, tenantId)];
        const scope: unknown[] = ['organizations', tenantId];
        if (args.rootsOnly) {
          conds.push(isNull(organizations.parentId));
          scope.push('roots');
        }
        if (args.parentId != null) {
          const parent = localId(args.parentId, 'Organization');
          if (!parent) return emptyConnection<OrganizationRow>();
          conds.push(eq(organizations.parentId, parent));
          scope.push(`parent:${parent}`);
        }
        if (args.subtreeOf != null) {
          const rootId = localId(args.subtreeOf, 'Organization');
          const root = rootId ? await ctx.loaders.organization.load(rootId) : null;
          if (!root) return emptyConnection<OrganizationRow>();
          conds.push(sql`${organizations.path} like ${`${escapeLike(root.path)}%`}`);
          scope.push(`subtree:${root.id}`);
        }
        return tablePage(
          ctx.db,
          {
            scope: JSON.stringify(scope),
            table: organizations,
            createdAt: organizations.createdAt,
            id: organizations.id,
            where: and(...conds),
            map: (r) => tag('Organization', r),
          },
          args,
        );
      }),
  }),
}));

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Unique among its siblings.' }),
    parentId: t.id({ description: 'The parent organisation; absent: a root.' }),
    externalId: t.string(),
  }),
});

/** Re-reads an organisation after a write (the loader may hold the old row). */
async function reload(ctx: GraphQLContext, id: string): Promise<OrganizationRow> {
  const row = await ctx.loaders.organization.clear(id).load(id);
  if (!row) throw new NotFoundError(`Organization ${id} not found`);
  return row;
}

async function reloadUser(ctx: GraphQLContext, id: string): Promise<UserRow> {
  const row = await ctx.loaders.user.clear(id).load(id);
  if (!row) throw new NotFoundError(`User ${id} not found`);
  return row;
}

const orgId = (id: string) => requireId(id, 'Organization');

builder.mutationFields((t) => ({
  createOrganization: t.field({
    type: OrganizationRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const org = await createOrganization(ctx.db.db, tenantOf(ctx), identityActor(ctx), {
          name: input.name,
          parentId: input.parentId != null ? orgId(input.parentId) : null,
          externalId: input.externalId ?? null,
        });
        return reload(ctx, org.id);
      }),
  }),
  renameOrganization: t.field({
    type: OrganizationRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
    resolve: (_, { id, name }, ctx) =>
      domain(async () => {
        const org = await renameOrganization(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          orgId(id),
          name,
        );
        return reload(ctx, org.id);
      }),
  }),
  moveOrganization: t.field({
    type: OrganizationRef,
    description: 'Moves an organisation with its whole subtree; `parentId` null: to the root.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }), parentId: t.arg.id() },
    resolve: (_, { id, parentId }, ctx) =>
      domain(async () => {
        const org = await moveOrganization(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          orgId(id),
          parentId != null ? orgId(parentId) : null,
        );
        ctx.loaders.organizationChildren.clearAll();
        return reload(ctx, org.id);
      }),
  }),
  deleteOrganization: t.field({
    type: DeletePayload,
    description: 'Refused (InvalidInputError, reason not_empty) while it has children or users.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = orgId(id);
        await deleteOrganization(ctx.db.db, tenantOf(ctx), identityActor(ctx), local);
        ctx.loaders.organization.clear(local);
        ctx.loaders.organizationChildren.clearAll();
        return { deletedId: encodeGlobalID('Organization', local) };
      }),
  }),
  setUserOrganization: t.field({
    type: UserRef,
    description: 'Puts a user in an organisation; `organizationId` null: in none.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { userId: t.arg.id({ required: true }), organizationId: t.arg.id() },
    resolve: (_, { userId, organizationId }, ctx) =>
      domain(async () => {
        const user = requireId(userId, 'User');
        await setUserOrganization(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          user,
          organizationId != null ? orgId(organizationId) : null,
        );
        return reloadUser(ctx, user);
      }),
  }),
}));
