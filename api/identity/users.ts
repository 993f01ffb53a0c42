import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';
import { recordChange } from '../../scim/store/outbox.ts';
import { checkId, notFound } from './errors.ts';
import type { Executor } from './executor.ts';

export interface LockedUser {
  id: string;
  active: boolean;
  version: number;
  organizationId: string | null;
}

/** Takes the user's row lock (tenant-scoped); unknown and foreign ids are `not_found`. */
export async function lockUser(tx: Tx, tenantId: string, userId: string): Promise<LockedUser> {
  checkId('user', userId);
  const [row] = await tx
    .select({
      id: users.id,
      active: users.active,
      version: users.version,
      organizationId: users.organizationId,
    })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
    .for('update');
  if (!row) throw notFound('user', userId);
  return row;
}

/**
 * Bumps the user's version (its SCIM ETag) and records an outbox `update`: roles, certificates,
 * accounts and organisation are part of the user's SCIM representation.
 */
export async function touchUser(
  tx: Tx,
  tenantId: string,
  userId: string,
  detail: Record<string, unknown>,
  set: { active?: boolean; organizationId?: string | null } = {},
): Promise<number> {
  const [row] = await tx
    .update(users)
    .set({
      ...(set.active === undefined
        ? {}
        : {
            active: set.active,
            doc: sql`jsonb_set(${users.doc}, '{active}', ${JSON.stringify(set.active)}::jsonb)`,
          }),
      ...(set.organizationId === undefined ? {} : { organizationId: set.organizationId }),
      version: sql`${users.version} + 1`,
      updatedAt: sql`greatest(now(), ${users.updatedAt} + interval '1 millisecond')`,
    })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
    .returning({ version: users.version });
  if (!row) throw notFound('user', userId);
  await recordChange(tx, {
    tenantId,
    resourceType: 'User',
    resourceId: userId,
    version: row.version,
    operation: 'update',
    detail,
  });
  return row.version;
}

/** Asserts the user exists in the tenant (lists of a foreign user are `not_found`, not empty). */
export async function requireUser(db: Executor, tenantId: string, userId: string): Promise<void> {
  checkId('user', userId);
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
  if (!row) throw notFound('user', userId);
}
