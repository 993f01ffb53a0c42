import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { roleAssignments, roles } from '../../db/schema/index.ts';
import { nameKey } from '../../scim/store/keys.ts';
import { type Actor, actorLabel, recordAudit } from './audit.ts';
import { checkId, IdentityError, notFound, unlessTaken } from './errors.ts';
import { type Executor, inTransaction } from './executor.ts';
import { lockUser, requireUser, touchUser } from './users.ts';

export type Role = typeof roles.$inferSelect;
export type RoleAssignment = typeof roleAssignments.$inferSelect;

/** Creates a role; names are unique in the tenant, case-insensitively. */
export async function createRole(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: { name: string; description?: string | null },
): Promise<Role> {
  const name = input.name.trim();
  if (!name || name.length > 256)
    throw new IdentityError('invalid', 'a role name needs 1 to 256 characters');
  return inTransaction(db, async (tx) => {
    const [row] = await unlessTaken(`a role named "${name}" already exists`, () =>
      tx
        .insert(roles)
        .values({ tenantId, name, nameKey: nameKey(name), description: input.description ?? null })
        .returning(),
    );
    const role = row as Role;
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'role.create',
      targetType: 'Role',
      targetId: role.id,
      summary: { name },
    });
    return role;
  });
}

/** One role of the tenant; `not_found` otherwise. */
export async function getRole(db: Executor, tenantId: string, roleId: string): Promise<Role> {
  checkId('role', roleId);
  const [row] = await db
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, roleId)));
  if (!row) throw notFound('role', roleId);
  return row;
}

/** The tenant's roles, by name. */
export async function listRoles(db: Executor, tenantId: string): Promise<Role[]> {
  return db.select().from(roles).where(eq(roles.tenantId, tenantId)).orderBy(asc(roles.nameKey));
}

const openGrant = (tenantId: string, roleId: string, userId: string) =>
  and(
    eq(roleAssignments.tenantId, tenantId),
    eq(roleAssignments.roleId, roleId),
    eq(roleAssignments.userId, userId),
    eq(roleAssignments.state, 'granted'),
  );

async function lockRoleAndUser(tx: Tx, tenantId: string, roleId: string, userId: string) {
  await lockUser(tx, tenantId, userId);
  await getRole(tx, tenantId, roleId);
}

/**
 * Grants a role to a user by opening an assignment. Idempotent: when the role is already
 * granted, the open assignment is returned with `granted: false` and nothing is written
 * (directory sync re-asserts grants on every run).
 */
export async function grantRole(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: { roleId: string; userId: string },
): Promise<{ assignment: RoleAssignment; granted: boolean }> {
  const { roleId, userId } = input;
  return inTransaction(db, async (tx) => {
    await lockRoleAndUser(tx, tenantId, roleId, userId);
    const [open] = await tx
      .select()
      .from(roleAssignments)
      .where(openGrant(tenantId, roleId, userId));
    if (open) return { assignment: open, granted: false };
    const [row] = await tx
      .insert(roleAssignments)
      .values({ tenantId, roleId, userId, grantedBy: actorLabel(actor) })
      .returning();
    const assignment = row as RoleAssignment;
    await touchUser(tx, tenantId, userId, { roles: { granted: roleId } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'role.grant',
      targetType: 'RoleAssignment',
      targetId: assignment.id,
      summary: { roleId, userId },
    });
    return { assignment, granted: true };
  });
}

/**
 * Withdraws a granted role: closes the open assignment with time, actor and reason (the row
 * stays as history). `not_found` when the role is not currently granted to the user.
 */
export async function withdrawRole(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: { roleId: string; userId: string; reason?: string | null },
): Promise<RoleAssignment> {
  const { roleId, userId } = input;
  return inTransaction(db, async (tx) => {
    await lockRoleAndUser(tx, tenantId, roleId, userId);
    const [row] = await tx
      .update(roleAssignments)
      .set({
        state: 'withdrawn',
        withdrawnAt: sql`now()`,
        withdrawnBy: actorLabel(actor),
        withdrawReason: input.reason ?? null,
      })
      .where(openGrant(tenantId, roleId, userId))
      .returning();
    if (!row)
      throw new IdentityError('not_found', `role ${roleId} is not granted to user ${userId}`);
    await touchUser(tx, tenantId, userId, { roles: { withdrawn: roleId } });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'role.withdraw',
      targetType: 'RoleAssignment',
      targetId: row.id,
      summary: { roleId, userId, ...(input.reason ? { reason: input.reason } : {}) },
    });
    return row;
  });
}

/**
 * Role assignments of a user or of a role, newest first: the current grants only, or with
 * `history` the withdrawn ones too.
 */
export async function listRoleAssignments(
  db: Executor,
  tenantId: string,
  by: { userId: string } | { roleId: string },
  opts: { history?: boolean } = {},
): Promise<RoleAssignment[]> {
  const conds = [eq(roleAssignments.tenantId, tenantId)];
  if ('userId' in by) {
    await requireUser(db, tenantId, by.userId);
    conds.push(eq(roleAssignments.userId, by.userId));
  } else {
    await getRole(db, tenantId, by.roleId);
    conds.push(eq(roleAssignments.roleId, by.roleId));
  }
  if (!opts.history) conds.push(eq(roleAssignments.state, 'granted'));
  return db
    .select()
    .from(roleAssignments)
    .where(and(...conds))
    .orderBy(desc(roleAssignments.grantedAt), desc(roleAssignments.id));
}
