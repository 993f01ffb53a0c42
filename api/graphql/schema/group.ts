import { encodeGlobalID } from '@pothos/plugin-relay';
import { groupKind, SCHEMA } from '../../../scim/schemas/index.ts';
import {
  createResource,
  patchResource,
  removeResource,
  type WriteContext,
} from '../../../scim/service.ts';
import { isUuid } from '../../../scim/store/keys.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf, tokenOf } from '../context.ts';
import { decodeTyped, localId } from '../ids.ts';
import { searchPage } from '../listing.ts';
import { arrayConnection, decodeCursor, encodeCursor, lazyCount, pageSize } from '../paging.ts';
import type { GroupRow } from '../rows.ts';
import { DeletePayload, SortOrder } from './common.ts';
import { domain, InvalidInputError, mutationErrors, NotFoundError, queryInput } from './errors.ts';
import { UserRef } from './user.ts';

export const GroupRef = builder.objectRef<GroupRow>('Group');

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A member of a group: a user or (nested) group. */
export const GroupMember = builder.unionType('GroupMember', {
  types: [UserRef, GroupRef],
  resolveType: (m) => (m.kind === 'User' ? UserRef : GroupRef),
});

builder.node(GroupRef, {
  description: 'A group of your tenant (the SCIM Group resource).',
  authScopes: { admin: true },
  id: { resolve: (g) => g.id },
  isTypeOf: (v) => isObject(v) && v.kind === 'Group',
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.group.load(id))),
  fields: (t) => ({
    scimId: t.exposeID('id', { description: 'The id of this group over SCIM.' }),
    displayName: t.exposeString('displayName'),
    externalId: t.exposeString('externalId', { nullable: true }),
    source: t.exposeString('source'),
    version: t.exposeInt('version'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    members: t.connection(
      {
        nullable: true,
        type: GroupMember,
        description: 'Direct members, in the order they were added.',
        resolve: (g, args, ctx) =>
          queryInput(async () => {
            const size = pageSize(args);
            const scope = `members:${g.id}`;
            const after = decodeCursor(scope, args.after);
            const refs =
              size === 0
                ? []
                : await ctx.loaders.memberPage.load({ groupId: g.id, limit: size + 1, after });
            const page = refs.slice(0, size);
            const edges = page.map((r) => ({
              node: r.member,
              cursor: encodeCursor(scope, { at: r.addedAt, id: r.member.id }),
            }));
            return {
              edges,
              pageInfo: {
                hasNextPage: refs.length > size,
                hasPreviousPage: Boolean(args.after),
                startCursor: edges[0]?.cursor ?? null,
                endCursor: edges[edges.length - 1]?.cursor ?? null,
              },
              totalCount: lazyCount(() => ctx.loaders.memberCount.load(g.id)),
            };
          }),
      },
      { name: 'GroupMembersConnection' },
      { name: 'GroupMembersEdge' },
    ),
  }),
});

builder.objectField(UserRef, 'groups', (t) =>
  t.connection(
    {
      nullable: true,
      type: GroupRef,
      description: 'Groups the user belongs to, directly or through nested groups, by name.',
      resolve: async (u, args, ctx) =>
        queryInput(async () =>
          arrayConnection(
            `groups:${u.id}`,
            await ctx.loaders.userGroups.load(u.id),
            (m) => m.group.id,
            (m) => m.group,
            args,
          ),
        ),
    },
    { name: 'UserGroupsConnection' },
    {
      name: 'UserGroupsEdge',
      fields: (e) => ({
        direct: e.boolean({
          description: 'True when the user is a member of this group itself.',
          resolve: (edge) => 'item' in edge && isObject(edge.item) && edge.item.depth === 1,
        }),
      }),
    },
  ),
);

builder.queryFields((t) => ({
  group: t.field({
    type: GroupRef,
    nullable: true,
    description: 'A group by global id (or SCIM id); null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Group');
      return local ? ctx.loaders.group.load(local) : null;
    },
  }),
  groups: t.connection({
    nullable: true,
    type: GroupRef,
    description: 'Groups of your tenant; `filter` is a SCIM filter, `sortBy` a SCIM attribute.',
    authScopes: { admin: true },
    args: {
      filter: t.arg.string({ description: 'e.g. displayName co "admin"' }),
      sortBy: t.arg.string({ description: 'e.g. displayName' }),
      sortOrder: t.arg({ type: SortOrder, defaultValue: 'ASCENDING' }),
    },
    resolve: (_, args, ctx) =>
      queryInput(() =>
        searchPage(ctx.db, tenantOf(ctx), 'groups', {
          ...args,
          descending: args.sortOrder === 'DESCENDING',
        }),
      ),
  }),
}));

const writeCtx = (ctx: GraphQLContext): WriteContext => ({
  db: ctx.db,
  tenantId: tenantOf(ctx),
  kind: groupKind,
  actor: { type: 'token', id: tokenOf(ctx), requestId: ctx.requestId },
});

async function reload(ctx: GraphQLContext, id: string): Promise<GroupRow> {
  const row = await ctx.loaders.group.clear(id).load(id);
  if (!row) throw new NotFoundError(`Group ${id} not found`);
  return row;
}

const requireGroup = (id: string) => {
  const local = localId(id, 'Group');
  if (!local) throw new NotFoundError(`Group ${id} not found`);
  return local;
};

/** Member ids (global ids of users or groups, or SCIM ids) as SCIM member references. */
function memberRefs(ids: readonly string[]): { value: string; type?: 'User' | 'Group' }[] {
  return ids.map((id) => {
    if (isUuid(id)) return { value: id.toLowerCase() };
    const d = decodeTyped(id);
    if (!d || (d.typename !== 'User' && d.typename !== 'Group')) {
      throw new InvalidInputError(`${id} is not a user or group id`, 'invalidValue');
    }
    return { value: d.id, type: d.typename };
  });
}

const patch = (ctx: GraphQLContext, id: string, Operations: Record<string, unknown>[]) =>
  patchResource(writeCtx(ctx), id, { schemas: [SCHEMA.patchOp], Operations });

const CreateGroupInput = builder.inputType('CreateGroupInput', {
  fields: (t) => ({
    displayName: t.string({ required: true }),
    externalId: t.string(),
    memberIds: t.idList({ description: 'Users or groups to add, by global id.' }),
  }),
});

const MAX_MEMBERS_PER_CALL = 1000;
builder.mutationFields((t) => ({
  createGroup: t.field({
    type: GroupRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: CreateGroupInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const body: Record<string, unknown> = {
          schemas: [SCHEMA.group],
          displayName: input.displayName,
        };
        if (input.externalId != null) body.externalId = input.externalId;
        if (input.memberIds?.length) body.members = memberRefs(limit(input.memberIds));
        const row = await createResource(writeCtx(ctx), body);
        return reload(ctx, row.id);
      }),
  }),
  renameGroup: t.field({
    type: GroupRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }), displayName: t.arg.string({ required: true }) },
    resolve: (_, { id, displayName }, ctx) =>
      domain(async () => {
        const local = requireGroup(id);
        await patch(ctx, local, [{ op: 'replace', path: 'displayName', value: displayName }]);
        return reload(ctx, local);
      }),
  }),
  deleteGroup: t.field({
    type: DeletePayload,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = requireGroup(id);
        await removeResource(writeCtx(ctx), local);
        ctx.loaders.group.clear(local);
        return { deletedId: encodeGlobalID('Group', local) };
      }),
  }),
  addGroupMembers: t.field({
    type: GroupRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { groupId: t.arg.id({ required: true }), memberIds: t.arg.idList({ required: true }) },
    resolve: (_, { groupId, memberIds }, ctx) =>
      domain(async () => {
        const local = requireGroup(groupId);
        const members = memberRefs(limit(memberIds));
        if (members.length)
          await patch(ctx, local, [{ op: 'add', path: 'members', value: members }]);
        return reload(ctx, local);
      }),
  }),
  removeGroupMembers: t.field({
    type: GroupRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { groupId: t.arg.id({ required: true }), memberIds: t.arg.idList({ required: true }) },
    resolve: (_, { groupId, memberIds }, ctx) =>
      domain(async () => {
        const local = requireGroup(groupId);
        // Ids are uuids here (memberRefs checked them), so the filter text is safe to build.
        const ops = memberRefs(limit(memberIds)).map((m) => ({
          op: 'remove',
          path: `members[value eq "${m.value}"]`,
        }));
        if (ops.length) await patch(ctx, local, ops);
        return reload(ctx, local);
      }),
  }),
}));

function limit<T>(ids: readonly T[]): readonly T[] {
  if (ids.length > MAX_MEMBERS_PER_CALL) {
    throw new InvalidInputError(`at most ${MAX_MEMBERS_PER_CALL} members per call`, 'tooMany');
  }
  return ids;
}
