import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { organizations } from '../../db/schema/index.ts';
import { nameKey } from '../../scim/store/keys.ts';
import { recordChange } from '../../scim/store/outbox.ts';
import { type Actor, recordAudit } from './audit.ts';
import { checkId, IdentityError, isId, notFound, unlessTaken } from './errors.ts';
import { type Executor, inTransaction } from './executor.ts';
import { lockUser, touchUser } from './users.ts';

export type Organization = typeof organizations.$inferSelect;

export interface CreateOrganizationInput {
  name: string;
  /** Absent or null: a root organisation. */
  parentId?: string | null;
  externalId?: string | null;
  /** `admin` (default), `scim`, `ldap:<dataSourceId>`. */
  source?: string;
}

const byId = (tenantId: string, id: string) =>
  and(eq(organizations.tenantId, tenantId), eq(organizations.id, id));

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 256)
    throw new IdentityError('invalid', 'an organisation name needs 1 to 256 characters');
  return trimmed;
}

const nameTaken = (name: string) =>
  `an organisation named "${name}" already exists under the same parent`;

/**
 * Tree-shaping writes of one tenant run one at a time, so no path is computed from a stale
 * parent. Take it before any organisation row lock (callers outside this module too).
 */
export async function lockOrganizationTree(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`idhub.org-tree:${tenantId}`}, 0))`,
  );
}

async function lockOrganization(tx: Tx, tenantId: string, id: string): Promise<Organization> {
  checkId('organization', id);
  const [row] = await tx.select().from(organizations).where(byId(tenantId, id)).for('update');
  if (!row) throw notFound('organization', id);
  return row;
}

async function changed(
  tx: Tx,
  actor: Actor,
  org: Pick<Organization, 'tenantId' | 'id' | 'version'>,
  operation: 'create' | 'update' | 'delete',
  action: string,
  summary: Record<string, unknown>,
): Promise<void> {
  const { tenantId, id, version } = org;
  await recordChange(tx, {
    tenantId,
    resourceType: 'Organization',
    resourceId: id,
    version,
    operation,
    detail: summary,
  });
  await recordAudit(tx, {
    tenantId,
    actor,
    action,
    targetType: 'Organization',
    targetId: id,
    summary,
  });
}

/** Creates an organisation under `parentId` (or a root); names are unique among siblings, case-insensitively. */
export async function createOrganization(
  db: Executor,
  tenantId: string,
  actor: Actor,
  input: CreateOrganizationInput,
): Promise<Organization> {
  const name = checkName(input.name);
  return inTransaction(db, async (tx) => {
    await lockOrganizationTree(tx, tenantId);
    const parent = input.parentId ? await lockOrganization(tx, tenantId, input.parentId) : null;
    const id = randomUUID();
    const [row] = await unlessTaken(nameTaken(name), () =>
      tx
        .insert(organizations)
        .values({
          id,
          tenantId,
          parentId: parent?.id ?? null,
          name,
          nameKey: nameKey(name),
          path: `${parent?.path ?? '/'}${id}/`,
          externalId: input.externalId ?? null,
          source: input.source ?? 'admin',
        })
        .returning(),
    );
    const org = row as Organization;
    await changed(tx, actor, org, 'create', 'organization.create', {
      name,
      parentId: org.parentId,
    });
    return org;
  });
}

/** Renames an organisation (still unique among its siblings). */
export async function renameOrganization(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
  newName: string,
): Promise<Organization> {
  const name = checkName(newName);
  return inTransaction(db, async (tx) => {
    const current = await lockOrganization(tx, tenantId, id);
    if (current.name === name) return current;
    const [row] = await unlessTaken(nameTaken(name), () =>
      tx
        .update(organizations)
        .set({
          name,
          nameKey: nameKey(name),
          version: sql`${organizations.version} + 1`,
          updatedAt: sql`greatest(now(), ${organizations.updatedAt} + interval '1 millisecond')`,
        })
        .where(byId(tenantId, id))
        .returning(),
    );
    const org = row as Organization;
    await changed(tx, actor, org, 'update', 'organization.rename', {
      attributes: ['name'],
    });
    return org;
  });
}

/**
 * Moves an organisation and its whole subtree under `newParentId` (null: to the root) by
 * rewriting every path of the subtree in one UPDATE. Moving under itself or a descendant is a
 * `cycle`. Only the moved organisation's version changes (its parent did); descendants keep
 * their parent and version.
 */
export async function moveOrganization(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
  newParentId: string | null,
): Promise<Organization> {
  return inTransaction(db, async (tx) => {
    await lockOrganizationTree(tx, tenantId);
    const node = await lockOrganization(tx, tenantId, id);
    const parent = newParentId ? await lockOrganization(tx, tenantId, newParentId) : null;
    if (parent?.path.startsWith(node.path))
      throw new IdentityError(
        'cycle',
        `organisation ${id} cannot move under itself or one of its descendants`,
      );
    if ((parent?.id ?? null) === node.parentId) return node;
    const newPath = `${parent?.path ?? '/'}${node.id}/`;
    const moved = await unlessTaken(nameTaken(node.name), () =>
      tx.execute<{ id: string }>(sql`update organizations set
          path = ${newPath} || substr(path, ${node.path.length + 1}),
          parent_id = case when id = ${id} then ${parent?.id ?? null}::uuid else parent_id end,
          version = case when id = ${id} then version + 1 else version end,
          updated_at = case when id = ${id}
            then greatest(now(), updated_at + interval '1 millisecond') else updated_at end
        where tenant_id = ${tenantId} and path like ${`${escapeLike(node.path)}%`}
        returning id`),
    );
    const org = await getOrganization(tx, tenantId, id);
    await changed(tx, actor, org, 'update', 'organization.move', {
      parentId: { from: node.parentId, to: org.parentId },
      subtreeSize: moved.length,
    });
    return org;
  });
}

/** Deletes an organisation; refused with `not_empty` while it has child organisations or users. */
export async function deleteOrganization(
  db: Executor,
  tenantId: string,
  actor: Actor,
  id: string,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await lockOrganizationTree(tx, tenantId);
    const node = await lockOrganization(tx, tenantId, id);
    const [counts] = await tx.execute<{ children: number; members: number }>(sql`select
        (select count(*)::int from organizations where tenant_id = ${tenantId} and parent_id = ${id}) as children,
        (select count(*)::int from users where tenant_id = ${tenantId} and organization_id = ${id}) as members`);
    const { children = 0, members = 0 } = counts ?? {};
    if (children || members)
      throw new IdentityError(
        'not_empty',
        `organisation "${node.name}" still has ${children} child organisation(s) and ${members} user(s); move or delete them first`,
      );
    await tx.delete(organizations).where(byId(tenantId, id));
    await changed(
      tx,
      actor,
      { ...node, version: node.version + 1 },
      'delete',
      'organization.delete',
      {
        name: node.name,
      },
    );
  });
}

/** One organisation of the tenant; `not_found` otherwise. */
export async function getOrganization(
  db: Executor,
  tenantId: string,
  id: string,
): Promise<Organization> {
  checkId('organization', id);
  const [row] = await db.select().from(organizations).where(byId(tenantId, id));
  if (!row) throw notFound('organization', id);
  return row;
}

/** The tenant's organisations among `ids` (unknown and foreign ids are skipped): for DataLoaders. */
export async function getOrganizations(
  db: Executor,
  tenantId: string,
  ids: readonly string[],
): Promise<Organization[]> {
  const valid = ids.filter(isId);
  if (!valid.length) return [];
  return db
    .select()
    .from(organizations)
    .where(and(eq(organizations.tenantId, tenantId), inArray(organizations.id, valid)));
}

/** The children of an organisation (or the roots when `parentId` is null), by name. */
export async function listChildren(
  db: Executor,
  tenantId: string,
  parentId: string | null,
): Promise<Organization[]> {
  if (parentId) await getOrganization(db, tenantId, parentId);
  return db
    .select()
    .from(organizations)
    .where(
      and(
        eq(organizations.tenantId, tenantId),
        parentId ? eq(organizations.parentId, parentId) : isNull(organizations.parentId),
      ),
    )
    .orderBy(asc(organizations.nameKey), asc(organizations.id));
}

/**
 * An organisation's subtree in depth-first order (by path), itself first unless
 * `includeSelf` is false: one indexed prefix scan.
 */
export async function listSubtree(
  db: Executor,
  tenantId: string,
  id: string,
  opts: { includeSelf?: boolean } = {},
): Promise<Organization[]> {
  const root = await getOrganization(db, tenantId, id);
  const rows = await db
    .select()
    .from(organizations)
    .where(
      and(
        eq(organizations.tenantId, tenantId),
        sql`${organizations.path} like ${`${escapeLike(root.path)}%`}`,
      ),
    )
    .orderBy(asc(organizations.path));
  return opts.includeSelf === false ? rows.filter((r) => r.id !== id) : rows;
}

/**
 * Puts a user in an organisation (`organizationId` null: in none). A user belongs to at most
 * one; the user's version is bumped and an outbox `update` recorded, like a SCIM write.
 */
export async function setUserOrganization(
  db: Executor,
  tenantId: string,
  actor: Actor,
  userId: string,
  organizationId: string | null,
): Promise<{ userId: string; organizationId: string | null; version: number }> {
  return inTransaction(db, async (tx) => {
    const user = await lockUser(tx, tenantId, userId);
    // A share lock keeps the organisation from being deleted before this commits.
    if (organizationId) {
      checkId('organization', organizationId);
      const [org] = await tx
        .select({ id: organizations.id })
        .from(organizations)
        .where(byId(tenantId, organizationId))
        .for('share');
      if (!org) throw notFound('organization', organizationId);
    }
    if (user.organizationId === organizationId)
      return { userId, organizationId, version: user.version };
    const change = { organization: { from: user.organizationId, to: organizationId } };
    const version = await touchUser(tx, tenantId, userId, change, { organizationId });
    await recordAudit(tx, {
      tenantId,
      actor,
      action: organizationId ? 'user.organization.assign' : 'user.organization.unassign',
      targetType: 'User',
      targetId: userId,
      summary: change,
    });
    return { userId, organizationId, version };
  });
}
