import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { and, desc, eq, gte, like, lt, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../../db/client.ts';
import { auditLog } from '../../../db/schema/index.ts';
import { isUuid } from '../../../scim/store/keys.ts';
import { escapeLike } from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { tenantOf } from '../context.ts';
import { decodeTyped } from '../ids.ts';
import type { AuditRow } from '../loaders-identity.ts';
import { type ConnectionShape, lazyCount, type PageArgs, pageSize } from '../paging.ts';
import { InvalidInputError, queryInput } from './errors.ts';
import { ApiTokenRef } from './token.ts';
import { UserRef } from './user.ts';

/** Target types whose ids are global ids of a type of this schema. */
const NODE_TYPES = new Set([
  'User',
  'Group',
  'Organization',
  'Account',
  'Credential',
  'Certificate',
  'Role',
  'RoleAssignment',
]);

const AuditEntryRef = builder.objectRef<AuditRow>('AuditEntry').implement({
  description: 'One audit-log row: who (actor) did what (action) to which target, and when.',
  fields: (t) => ({
    id: t.id({
      description: 'The row number (rows only ever grow).',
      resolve: (a) => String(a.id),
    }),
    action: t.exposeString('action', { description: 'e.g. organization.move, scim.user.patch' }),
    actorType: t.exposeString('actorType', { description: 'token, operator or system' }),
    actorId: t.exposeString('actorId', { nullable: true, description: 'The token id for tokens.' }),
    actorToken: t.field({
      type: ApiTokenRef,
      nullable: true,
      description: 'The token that acted (null for other actors or a deleted token).',
      resolve: (a, _, ctx) =>
        a.actorType === 'token' && a.actorId && isUuid(a.actorId)
          ? ctx.loaders.token.load(a.actorId)
          : null,
    }),
    targetType: t.exposeString('targetType'),
    targetId: t.exposeString('targetId', { nullable: true, description: 'The local id.' }),
    targetGlobalId: t.id({
      nullable: true,
      description: 'The target as a global id (for node(id:)), when it is a type of this API.',
      resolve: (a) =>
        a.targetId && NODE_TYPES.has(a.targetType) && isUuid(a.targetId)
          ? encodeGlobalID(a.targetType, a.targetId)
          : null,
    }),
    summary: t.string({
      nullable: true,
      description: 'What changed, as JSON (attribute names, states, counts — never secrets).',
      resolve: (a) => (a.summary == null ? null : JSON.stringify(a.summary)),
    }),
    requestId: t.exposeString('requestId', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const cursorScope = (scope: string) =>
  createHash('sha256').update(scope).digest('base64url').slice(0, 12);

const encodeAuditCursor = (scope: string, id: number) =>
  Buffer.from(JSON.stringify({ q: cursorScope(scope), n: id })).toString('base64url');

/** The row id an audit cursor points at; InvalidInput for cursors of other listings. */
function decodeAuditCursor(scope: string, cursor: string | null | undefined): number | undefined {
  if (cursor == null || cursor === '') return undefined;
  let s: { q?: unknown; n?: unknown } = {};
  try {
    s = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    /* refused below */
  }
  if (s?.q !== cursorScope(scope) || !Number.isSafeInteger(s.n)) {
    throw new InvalidInputError('the cursor is not one this listing issued', 'invalidCursor');
  }
  return s.n as number;
}

/** A connection from up to size + 1 rows, newest first. */
function toAuditConnection(
  scope: string,
  rows: AuditRow[],
  size: number,
  args: PageArgs,
  totalCount: () => Promise<number>,
): ConnectionShape<AuditRow> {
  const edges = rows
    .slice(0, size)
    .map((r) => ({ node: r, cursor: encodeAuditCursor(scope, r.id) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage: Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount,
  };
}

builder.objectField(UserRef, 'auditTrail', (t) =>
  t.connection(
    {
      nullable: true,
      type: AuditEntryRef,
      description: 'Audit rows whose target is this user, newest first.',
      resolve: (u, args, ctx) =>
        queryInput(async () => {
          const size = pageSize(args);
          const scope = `audit-user:${u.id}`;
          const beforeId = decodeAuditCursor(scope, args.after);
          const rows =
            size === 0
              ? []
              : await ctx.loaders.auditPage.load({
                  targetType: 'User',
                  targetId: u.id,
                  limit: size + 1,
                  beforeId,
                });
          return toAuditConnection(
            scope,
            rows,
            size,
            args,
            lazyCount(() =>
              countAudit(ctx.db.db, [
                eq(auditLog.tenantId, u.tenantId),
                eq(auditLog.targetType, 'User'),
                eq(auditLog.targetId, u.id),
              ]),
            ),
          );
        }),
    },
    { name: 'UserAuditTrailConnection' },
    { name: 'UserAuditTrailEdge' },
  ),
);

async function countAudit(d: Database, conds: (SQL | undefined)[]): Promise<number> {
  const [c] = await d
    .select({ n: sql<string>`count(*)::text` })
    .from(auditLog)
    .where(and(...conds));
  return Number(c?.n ?? 0);
}

builder.queryField('auditLog', (t) =>
  t.connection({
    nullable: true,
    type: AuditEntryRef,
    description: "Your tenant's audit log, newest first; every filter given must match.",
    authScopes: { admin: true },
    args: {
      actorId: t.arg.id({ description: 'The acting token, by global id (or raw actor id).' }),
      action: t.arg.string({ description: 'Exact action, or a prefix ending in "." or "*".' }),
      targetType: t.arg.string({ description: 'e.g. User, Organization, Certificate' }),
      targetId: t.arg.id({ description: 'By global id (sets the type too) or local id.' }),
      from: t.arg({ type: 'DateTime', description: 'At or after this time.' }),
      to: t.arg({ type: 'DateTime', description: 'Before this time.' }),
    },
    resolve: (_, args, ctx) =>
      queryInput(async () => {
        const tenantId = tenantOf(ctx);
        const size = pageSize(args);
        const conds: (SQL | undefined)[] = [eq(auditLog.tenantId, tenantId)];
        if (args.actorId != null) {
          const d = decodeTyped(args.actorId);
          conds.push(eq(auditLog.actorId, d?.typename === 'ApiToken' ? d.id : args.actorId));
        }
        if (args.action != null) {
          const a = args.action;
          if (a.endsWith('*')) conds.push(like(auditLog.action, `${escapeLike(a.slice(0, -1))}%`));
          else if (a.endsWith('.')) conds.push(like(auditLog.action, `${escapeLike(a)}%`));
          else conds.push(eq(auditLog.action, a));
        }
        if (args.targetId != null) {
          const d = decodeTyped(args.targetId);
          if (d) {
            conds.push(eq(auditLog.targetType, d.typename), eq(auditLog.targetId, d.id));
          } else conds.push(eq(auditLog.targetId, args.targetId));
        }
        if (args.targetType != null) conds.push(eq(auditLog.targetType, args.targetType));
        if (args.from) conds.push(gte(auditLog.createdAt, args.from));
        if (args.to) conds.push(lt(auditLog.createdAt, args.to));
        const scope = JSON.stringify([
          'audit',
          tenantId,
          args.actorId ?? null,
          args.action ?? null,
          args.targetType ?? null,
          args.targetId ?? null,
          args.from?.toISOString() ?? null,
          args.to?.toISOString() ?? null,
        ]);
        const beforeId = decodeAuditCursor(scope, args.after);
        const rows =
          size === 0
            ? []
            : await ctx.db.db
                .select()
                .from(auditLog)
                .where(and(...conds, beforeId != null ? lt(auditLog.id, beforeId) : undefined))
                .orderBy(desc(auditLog.id))
                .limit(size + 1);
        return toAuditConnection(
          scope,
          rows,
          size,
          args,
          lazyCount(() => countAudit(ctx.db.db, conds)),
        );
      }),
  }),
);
