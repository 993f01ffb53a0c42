import { eq } from 'drizzle-orm';
import { roles } from '../../../db/schema/index.ts';
import { createRole, grantRole, withdrawRole } from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { arrayConnection } from '../paging.ts';
import { type RoleAssignmentRow, type RoleRow, tag } from '../rows.ts';
import { tablePage } from '../table-page.ts';
import { identityActor, isKind, isObject, requireId } from './common.ts';
import { domain, mutationErrors, NotFoundError, queryInput } from './errors.ts';
import { UserRef } from './user.ts';

export const RoleRef = builder.objectRef<RoleRow>('Role');
export const RoleAssignmentRef = builder.objectRef<RoleAssignmentRow>('RoleAssignment');

const AssignmentState = builder.enumType('RoleAssignmentState', {
  values: { GRANTED: { value: 'granted' }, WITHDRAWN: { value: 'withdrawn' } } as const,
});

/** Current grants, or with `history` the withdrawn ones too (newest first). */
const current = (rows: RoleAssignmentRow[], history: boolean | null | undefined) =>
  history ? rows : rows.filter((r) => r.state === 'granted');

builder.node(RoleRef, {
  description: 'A role of your tenant.',
  authScopes: { admin: true },
  id: { resolve: (r) => r.id },
  isTypeOf: isKind('Role'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.role.load(id))),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    assignments: t.connection(
      {
        nullable: true,
        type: RoleAssignmentRef,
        description: 'Who holds this role (with `history`, who held it), newest first.',
        args: { history: t.arg.boolean({ defaultValue: false }) },
        resolve: async (r, args, ctx) =>
          queryInput(async () =>
            arrayConnection(
              `role-assignments:${r.id}:${Boolean(args.history)}`,
              current(await ctx.loaders.roleAssignmentsOfRole.load(r.id), args.history),
              (a) => a.id,
              (a) => a,
              args,
            ),
          ),
      },
      { name: 'RoleAssignmentsConnection' },
      { name: 'RoleAssignmentsEdge' },
    ),
  }),
});

builder.node(RoleAssignmentRef, {
  description: 'A grant of a role to a user; withdrawing closes it and keeps it as history.',
  authScopes: { admin: true },
  id: { resolve: (a) => a.id },
  isTypeOf: isKind('RoleAssignment'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.roleAssignment.load(id))),
  fields: (t) => ({
    role: t.field({
      type: RoleRef,
      nullable: true,
      resolve: (a, _, ctx) => ctx.loaders.role.load(a.roleId),
    }),
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: (a, _, ctx) => ctx.loaders.user.load(a.userId),
    }),
    state: t.field({ type: AssignmentState, resolve: (a) => a.state }),
    grantedAt: t.expose('grantedAt', { type: 'DateTime' }),
    grantedBy: t.exposeString('grantedBy', { description: 'token:<id>, operator, system:<name>' }),
    withdrawnAt: t.expose('withdrawnAt', { type: 'DateTime', nullable: true }),
    withdrawnBy: t.exposeString('withdrawnBy', { nullable: true }),
    withdrawReason: t.exposeString('withdrawReason', { nullable: true }),
  }),
});

builder.objectField(UserRef, 'roles', (t) =>
  t.connection(
    {
      nullable: true,
      type: RoleAssignmentRef,
      description:
        "The user's role assignments, newest first: current ones, or all with `history`.",
      args: { history: t.arg.boolean({ defaultValue: false }) },
      resolve: async (u, args, ctx) =>
        queryInput(async () =>
          arrayConnection(
            `user-roles:${u.id}:${Boolean(args.history)}`,
            current(await ctx.loaders.userAssignments.load(u.id), args.history),
            (a) => a.id,
            (a) => a,
            args,
          ),
        ),
    },
    { name: 'UserRolesConnection' },
    { name: 'UserRolesEdge' },
  ),
);

builder.queryFields((t) => ({
  role: t.field({
    type: RoleRef,
    nullable: true,
    description: 'A role by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Role');
      return local ? ctx.loaders.role.load(local) : null;
    },
  }),
  roles: t.connection({
    nullable: true,
    type: RoleRef,
    description: 'Roles of your tenant, oldest first.',
    authScopes: { admin: true },
    resolve: (_, args, ctx) =>
      queryInput(() => {
        const tenantId = tenantOf(ctx);
        return tablePage(
          ctx.db,
          {
            scope: JSON.stringify(['roles', tenantId]),
            table: roles,
            createdAt: roles.createdAt,
            id: roles.id,
            where: eq(roles.tenantId, tenantId),
            map: (r) => tag('Role', r),
          },
          args,
        );
      }),
  }),
}));

const CreateRoleInput = builder.inputType('CreateRoleInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Unique in the tenant.' }),
    description: t.string(),
  }),
});

interface Assigned {
  assignment: RoleAssignmentRow;
  granted: boolean;
}

const AssignRolePayload = builder.objectRef<Assigned>('AssignRolePayload').implement({
  isTypeOf: (v) => isObject(v) && 'assignment' in v && 'granted' in v,
  fields: (t) => ({
    assignment: t.field({ type: RoleAssignmentRef, resolve: (p) => p.assignment }),
    granted: t.exposeBoolean('granted', {
      description: 'False when the role was already granted (nothing changed).',
    }),
  }),
});

/** Forgets what this request loaded about a user's roles (a write changed them). */
function forget(ctx: GraphQLContext, a: { roleId: string; userId: string }) {
  ctx.loaders.userAssignments.clear(a.userId);
  ctx.loaders.roleAssignmentsOfRole.clear(a.roleId);
  ctx.loaders.user.clear(a.userId);
}

builder.mutationFields((t) => ({
  createRole: t.field({
    type: RoleRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: CreateRoleInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const role = await createRole(ctx.db.db, tenantOf(ctx), identityActor(ctx), {
          name: input.name,
          description: input.description ?? null,
        });
        return tag('Role', role);
      }),
  }),
  assignRole: t.field({
    type: AssignRolePayload,
    description: 'Grants a role to a user; idempotent (granted: false when already held).',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { roleId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_, args, ctx) =>
      domain(async () => {
        const ids = {
          roleId: requireId(args.roleId, 'Role'),
          userId: requireId(args.userId, 'User'),
        };
        const r = await grantRole(ctx.db.db, tenantOf(ctx), identityActor(ctx), ids);
        forget(ctx, ids);
        return { assignment: tag('RoleAssignment', r.assignment), granted: r.granted };
      }),
  }),
  withdrawRole: t.field({
    type: RoleAssignmentRef,
    description: 'Withdraws a granted role (kept as history); NotFound when not granted.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      roleId: t.arg.id({ required: true }),
      userId: t.arg.id({ required: true }),
      reason: t.arg.string(),
    },
    resolve: (_, args, ctx) =>
      domain(async () => {
        const ids = {
          roleId: requireId(args.roleId, 'Role'),
          userId: requireId(args.userId, 'User'),
        };
        const row = await withdrawRole(ctx.db.db, tenantOf(ctx), identityActor(ctx), {
          ...ids,
          reason: args.reason ?? null,
        });
        forget(ctx, ids);
        if (!row) throw new NotFoundError('assignment not found');
        return tag('RoleAssignment', row);
      }),
  }),
}));
