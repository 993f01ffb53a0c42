import { encodeGlobalID } from '@pothos/plugin-relay';
import { SCHEMA, userKind } from '../../../scim/schemas/index.ts';
import {
  createResource,
  patchResource,
  removeResource,
  type WriteContext,
} from '../../../scim/service.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf, tokenOf } from '../context.ts';
import { localId } from '../ids.ts';
import { searchPage } from '../listing.ts';
import type { UserRow } from '../rows.ts';
import { DeletePayload, SortOrder } from './common.ts';
import { domain, mutationErrors, NotFoundError, queryInput } from './errors.ts';

export const UserRef = builder.objectRef<UserRow>('User');

interface Name {
  formatted?: string;
  familyName?: string;
  givenName?: string;
  middleName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
}
interface Email {
  value: string;
  type?: string;
  primary?: boolean;
}

const NameRef = builder.objectRef<Name>('UserName').implement({
  fields: (t) => ({
    formatted: t.exposeString('formatted', { nullable: true }),
    familyName: t.exposeString('familyName', { nullable: true }),
    givenName: t.exposeString('givenName', { nullable: true }),
    middleName: t.exposeString('middleName', { nullable: true }),
    honorificPrefix: t.exposeString('honorificPrefix', { nullable: true }),
    honorificSuffix: t.exposeString('honorificSuffix', { nullable: true }),
  }),
});

const EmailRef = builder.objectRef<Email>('Email').implement({
  fields: (t) => ({
    value: t.exposeString('value'),
    type: t.exposeString('type', { nullable: true }),
    primary: t.boolean({ resolve: (e) => e.primary === true }),
  }),
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

builder.node(UserRef, {
  description: 'A user of your tenant (the SCIM User resource).',
  authScopes: { admin: true },
  id: { resolve: (u) => u.id },
  isTypeOf: (v) => isObject(v) && v.kind === 'User',
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.user.load(id))),
  fields: (t) => ({
    scimId: t.exposeID('id', { description: 'The id of this user over SCIM.' }),
    userName: t.exposeString('userName'),
    displayName: t.exposeString('displayName', { nullable: true }),
    externalId: t.exposeString('externalId', { nullable: true }),
    active: t.exposeBoolean('active'),
    source: t.exposeString('source', { description: 'scim, or ldap:<data source> …' }),
    version: t.exposeInt('version', { description: 'Bumped by every change (the SCIM ETag).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    name: t.field({
      type: NameRef,
      nullable: true,
      resolve: (u) => (isObject(u.doc.name) ? (u.doc.name as Name) : null),
    }),
    emails: t.field({
      type: [EmailRef],
      resolve: (u) =>
        Array.isArray(u.doc.emails)
          ? (u.doc.emails.filter((e) => isObject(e) && typeof e.value === 'string') as Email[])
          : [],
    }),
  }),
});

builder.queryFields((t) => ({
  user: t.field({
    type: UserRef,
    nullable: true,
    description: 'A user by global id (or SCIM id); null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'User');
      return local ? ctx.loaders.user.load(local) : null;
    },
  }),
  users: t.connection({
    nullable: true,
    type: UserRef,
    description: 'Users of your tenant; `filter` is a SCIM filter, `sortBy` a SCIM attribute.',
    authScopes: { admin: true },
    args: {
      filter: t.arg.string({ description: 'e.g. userName sw "a" and active eq true' }),
      sortBy: t.arg.string({ description: 'e.g. name.familyName' }),
      sortOrder: t.arg({ type: SortOrder, defaultValue: 'ASCENDING' }),
    },
    resolve: (_, args, ctx) =>
      queryInput(() =>
        searchPage(ctx.db, tenantOf(ctx), 'users', {
          ...args,
          descending: args.sortOrder === 'DESCENDING',
        }),
      ),
  }),
}));

const NameInput = builder.inputType('UserNameInput', {
  fields: (t) => ({
    formatted: t.string(),
    familyName: t.string(),
    givenName: t.string(),
    middleName: t.string(),
    honorificPrefix: t.string(),
    honorificSuffix: t.string(),
  }),
});

const EmailInput = builder.inputType('EmailInput', {
  fields: (t) => ({
    value: t.string({ required: true }),
    type: t.string(),
    primary: t.boolean(),
  }),
});

const userFields = (required: boolean) =>
  builder.inputType(required ? 'CreateUserInput' : 'UpdateUserInput', {
    description: required
      ? undefined
      : 'Only the fields given change; null removes an optional attribute.',
    fields: (t) => ({
      userName: t.string({ required }),
      displayName: t.string(),
      externalId: t.string(),
      active: t.boolean(),
      name: t.field({ type: NameInput }),
      emails: t.field({ type: [EmailInput] }),
    }),
  });

const CreateUserInput = userFields(true);
const UpdateUserInput = userFields(false);

/** Drops null/undefined members so SCIM sees only what the admin gave. */
function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compact);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => [k, compact(x)]),
  );
}

/** The write context every user mutation passes to the SCIM service (same outbox, versions). */
const writeCtx = (ctx: GraphQLContext): WriteContext => ({
  db: ctx.db,
  tenantId: tenantOf(ctx),
  kind: userKind,
  actor: { type: 'token', id: tokenOf(ctx), requestId: ctx.requestId },
});

/** Re-reads a user after a write (the loader may hold the old row). */
async function reload(ctx: GraphQLContext, id: string): Promise<UserRow> {
  const row = await ctx.loaders.user.clear(id).load(id);
  if (!row) throw new NotFoundError(`User ${id} not found`);
  return row;
}

const requireUser = (id: string) => {
  const local = localId(id, 'User');
  if (!local) throw new NotFoundError(`User ${id} not found`);
  return local;
};

builder.mutationFields((t) => ({
  createUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const row = await createResource(writeCtx(ctx), {
          schemas: [SCHEMA.user],
          ...(compact({ ...input }) as Record<string, unknown>),
        });
        return reload(ctx, row.id);
      }),
  }),
  updateUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateUserInput, required: true }),
    },
    resolve: (_, { id, input }, ctx) =>
      domain(async () => {
        const local = requireUser(id);
        const Operations = Object.entries(input)
          .filter(([, v]) => v !== undefined)
          .map(([path, v]) =>
            v === null ? { op: 'remove', path } : { op: 'replace', path, value: compact(v) },
          );
        if (Operations.length) {
          await patchResource(writeCtx(ctx), local, { schemas: [SCHEMA.patchOp], Operations });
        }
        return reload(ctx, local);
      }),
  }),
  deleteUser: t.field({
    type: DeletePayload,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = requireUser(id);
        await removeResource(writeCtx(ctx), local);
        ctx.loaders.user.clear(local);
        return { deletedId: encodeGlobalID('User', local) };
      }),
  }),
}));
