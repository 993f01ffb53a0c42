import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  type AccountState,
  accountStates,
  linkAccount,
  unlinkAccount,
} from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { arrayConnection } from '../paging.ts';
import type { AccountRow } from '../rows.ts';
import { DeletePayload, identityActor, isKind, requireId } from './common.ts';
import { domain, mutationErrors, NotFoundError, queryInput } from './errors.ts';
import { UserRef } from './user.ts';

export const AccountRef = builder.objectRef<AccountRow>('Account');

export const AccountStateEnum = builder.enumType('AccountState', {
  values: Object.fromEntries(accountStates.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    string,
    { value: AccountState }
  >,
});

builder.node(AccountRef, {
  description: "A user's account in another system (a data source or push target).",
  authScopes: { admin: true },
  id: { resolve: (a) => a.id },
  isTypeOf: isKind('Account'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.account.load(id))),
  fields: (t) => ({
    systemId: t.exposeString('systemId', { description: 'The system the account lives in.' }),
    externalKey: t.exposeString('externalKey', {
      description: "The system's immutable anchor (entryUUID, objectGUID, remote SCIM id).",
    }),
    dn: t.exposeString('dn', { nullable: true }),
    username: t.exposeString('username', { nullable: true }),
    state: t.field({ type: AccountStateEnum, resolve: (a) => a.state }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: (a, _, ctx) => ctx.loaders.user.load(a.userId),
    }),
  }),
});

builder.objectField(UserRef, 'accounts', (t) =>
  t.connection(
    {
      nullable: true,
      type: AccountRef,
      description: "The user's linked accounts, by system then external key.",
      resolve: async (u, args, ctx) =>
        queryInput(async () =>
          arrayConnection(
            `accounts:${u.id}`,
            await ctx.loaders.userAccounts.load(u.id),
            (a) => a.id,
            (a) => a,
            args,
          ),
        ),
    },
    { name: 'UserAccountsConnection' },
    { name: 'UserAccountsEdge' },
  ),
);

builder.queryField('account', (t) =>
  t.field({
    type: AccountRef,
    nullable: true,
    description: 'An account link by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Account');
      return local ? ctx.loaders.account.load(local) : null;
    },
  }),
);

const LinkAccountInput = builder.inputType('LinkAccountInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    systemId: t.string({ required: true }),
    externalKey: t.string({ required: true, description: 'Unique per system.' }),
    dn: t.string(),
    username: t.string(),
    state: t.field({ type: AccountStateEnum, description: 'ACTIVE when absent.' }),
  }),
});

builder.mutationFields((t) => ({
  linkAccount: t.field({
    type: AccountRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: LinkAccountInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const userId = requireId(input.userId, 'User');
        const account = await linkAccount(ctx.db.db, tenantOf(ctx), identityActor(ctx), {
          userId,
          systemId: input.systemId,
          externalKey: input.externalKey,
          dn: input.dn ?? null,
          username: input.username ?? null,
          state: input.state ?? undefined,
        });
        ctx.loaders.userAccounts.clear(userId);
        ctx.loaders.user.clear(userId);
        const row = await ctx.loaders.account.clear(account.id).load(account.id);
        if (!row) throw new NotFoundError(`Account ${account.id} not found`);
        return row;
      }),
  }),
  unlinkAccount: t.field({
    type: DeletePayload,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const account = await unlinkAccount(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          requireId(id, 'Account'),
        );
        ctx.loaders.account.clear(account.id);
        ctx.loaders.userAccounts.clear(account.userId);
        ctx.loaders.user.clear(account.userId);
        return { deletedId: encodeGlobalID('Account', account.id) };
      }),
  }),
}));
