import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../../db/client.ts';
import { apiTokens, type TokenScope, tokenScopes } from '../../../db/schema/index.ts';
import { recordAudit } from '../../identity/audit.ts';
import { createToken, revokeToken } from '../../tenants.ts';
import { builder } from '../builder.ts';
import { actorOf, type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { tokenColumns } from '../loaders.ts';
import {
  afterSql,
  decodeCursor,
  lazyCount,
  orderSql,
  type PageArgs,
  type PositionedRow,
  pageSize,
  toConnection,
} from '../paging.ts';
import type { TokenRow } from '../rows.ts';
import { domain, InvalidInputError, mutationErrors, NotFoundError, queryInput } from './errors.ts';
import { TenantRef } from './tenant.ts';

export const ApiTokenRef = builder.objectRef<TokenRow>('ApiToken');

export const TokenScopeEnum = builder.enumType('TokenScope', {
  values: Object.fromEntries(tokenScopes.map((s) => [s.toUpperCase(), { value: s }])) as {
    [K in TokenScope as Uppercase<K>]: { value: K };
  },
});

builder.node(ApiTokenRef, {
  description: 'An API token. Only its prefix is ever shown again after creation.',
  authScopes: { admin: true, operator: true },
  id: { resolve: (t) => t.id },
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'kind' in v && v.kind === 'ApiToken',
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.token.load(id))),
  fields: (t) => ({
    name: t.exposeString('name', { nullable: true }),
    prefix: t.exposeString('prefix'),
    scopes: t.field({ type: [TokenScopeEnum], resolve: (tok) => tok.scopes }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    active: t.boolean({
      resolve: (tok) => !tok.revokedAt && (!tok.expiresAt || tok.expiresAt > new Date()),
    }),
  }),
});

/** One page of a tenant's tokens, newest last. */
async function tokenPage(db: Database, tenantId: string, args: PageArgs) {
  const size = pageSize(args);
  const scope = `tokens:${tenantId}`;
  const pos = decodeCursor(scope, args.after);
  const at = sql`${apiTokens.createdAt}`;
  const id = sql`${apiTokens.id}`;
  const rows =
    size === 0
      ? []
      : await db
          .select({
            ...tokenColumns,
            cursorAt: sql<string>`to_json(${apiTokens.createdAt}) #>> '{}'`,
          })
          .from(apiTokens)
          .where(and(eq(apiTokens.tenantId, tenantId), pos ? afterSql(at, id, pos) : undefined))
          .orderBy(orderSql(at, id))
          .limit(size + 1);
  const positioned: PositionedRow<TokenRow>[] = rows.map(({ cursorAt, ...r }) => ({
    row: { ...r, kind: 'ApiToken' },
    id: r.id,
    cursorAt,
    sortKey: null,
    sortType: null,
  }));
  const count = lazyCount(async () => {
    const [c] = await db
      .select({ n: sql<string>`count(*)::text` })
      .from(apiTokens)
      .where(eq(apiTokens.tenantId, tenantId));
    return Number(c?.n ?? 0);
  });
  return toConnection(scope, positioned, size, args, count, false);
}

builder.objectField(TenantRef, 'apiTokens', (t) =>
  t.connection({
    nullable: true,
    type: ApiTokenRef,
    description: 'The tenant’s tokens, revoked ones included.',
    resolve: (tenant, args, ctx) => queryInput(() => tokenPage(ctx.db.db, tenant.id, args)),
  }),
);

interface IssuedTokenPayload {
  token: string;
  apiToken: TokenRow;
}

const CreateApiTokenPayload = builder
  .objectRef<IssuedTokenPayload>('CreateApiTokenPayload')
  .implement({
    isTypeOf: (v) => typeof v === 'object' && v !== null && 'apiToken' in v,
    fields: (t) => ({
      token: t.exposeString('token', {
        description: 'The token itself: shown this once, only its SHA-256 is stored.',
      }),
      apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }),
    }),
  });

const MAX_DAYS = 3650;

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenPayload,
    description: 'Issues a token for your tenant.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      scopes: t.arg({ type: [TokenScopeEnum], required: true }),
      name: t.arg.string(),
      expiresInDays: t.arg.int({ description: `1–${MAX_DAYS}; never expires when absent` }),
    },
    resolve: (_, args, ctx) =>
      domain(async () => {
        const tenantId = tenantOf(ctx);
        if (args.scopes.length === 0) throw new InvalidInputError('give at least one scope');
        const days = args.expiresInDays;
        if (days != null && (days < 1 || days > MAX_DAYS)) {
          throw new InvalidInputError(`expiresInDays must be 1–${MAX_DAYS}`);
        }
        const name = args.name?.trim();
        if (name && name.length > 200) throw new InvalidInputError('name is too long');
        const expiresAt = days != null ? new Date(Date.now() + days * 86_400_000) : undefined;
        const issued = await ctx.db.db.transaction(async (tx) => {
          const made = await createToken(tx, tenantId, args.scopes, {
            name: name || undefined,
            expiresAt,
          });
          await recordAudit(tx, {
            tenantId,
            actor: actorOf(ctx),
            action: 'token.create',
            targetType: 'ApiToken',
            targetId: made.id,
            summary: { scopes: made.scopes, prefix: made.prefix, expiresAt: expiresAt ?? null },
          });
          return made;
        });
        const row = await ctx.loaders.token.load(issued.id);
        if (!row) throw new Error('the token just issued is not readable');
        return { token: issued.token, apiToken: row };
      }),
  }),
  revokeApiToken: t.field({
    type: ApiTokenRef,
    description: 'Revokes one of your tenant’s tokens at once (all replicas); twice is harmless.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = localId(id, 'ApiToken');
        // The loader sees the caller's tenant only: another tenant's token is "not found".
        const existing = local ? await ctx.loaders.token.load(local) : null;
        if (!local || !existing || existing.tenantId !== tenantOf(ctx)) {
          throw new NotFoundError(`no token "${id}"`);
        }
        await ctx.db.db.transaction(async (tx) => {
          await revokeToken(tx, local);
          await recordAudit(tx, {
            tenantId: tenantOf(ctx),
            actor: actorOf(ctx),
            action: 'token.revoke',
            targetType: 'ApiToken',
            targetId: local,
            summary: { prefix: existing.prefix },
          });
        });
        const row = await ctx.loaders.token.clear(local).load(local);
        if (!row) throw new NotFoundError(`no token "${id}"`);
        return row;
      }),
  }),
}));
