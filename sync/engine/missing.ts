/**
 * Reconcile: linked entries a complete read did not return. Their plan is computed in SQL and
 * stored as `staged_changes` rows (never held in memory), then either applied at once, held
 * for approval by the guard, or only shown (dry run). Applying walks the staged rows in
 * batches; each change is idempotent (a deactivated user deactivates as a no-op, a deleted
 * user's staged row is gone with it), so an interrupted apply simply runs again.
 */
import { sql } from 'drizzle-orm';
import type { Actor } from '../../api/identity/audit.ts';
import { recordAudit } from '../../api/identity/audit.ts';
import { deactivateUsers } from '../../api/identity/cascade.ts';
import { escapeLike } from '../../api/identity/organizations.ts';
import type { Database, Tx } from '../../db/client.ts';
import { recordChange } from '../../scim/store/outbox.ts';
import { deleteResource } from '../../scim/store/resources.ts';
import type { SyncRunRecord } from '../jobs/runs.ts';
import { dnKey } from './directory.ts';
import type { JobSettings } from './settings.ts';

export interface MissingPlan {
  deactivate: number;
  delete: number;
  /** Linked accounts under the job's base DN before this run (the guard's 100%). */
  inScope: number;
}

type Run = Pick<SyncRunRecord, 'id' | 'tenantId' | 'jobId'>;

/** Linked accounts (`a`) of this source under the base DN that are not already missing. */
const inScope = (run: Run, systemId: string, baseDn: string) => {
  const base = dnKey(baseDn);
  return sql`a.tenant_id = ${run.tenantId} and a.system_id = ${systemId} and a.state <> 'missing'
    and (lower(a.dn) = ${base} or lower(a.dn) like ${`%,${escapeLike(base)}`})`;
};

/** Accounts of this source under the base DN that this run did not see. */
const missingWhere = (run: Run, systemId: string, baseDn: string) =>
  sql`${inScope(run, systemId, baseDn)} and a.last_seen_run is distinct from ${run.id}`;

/** Stores the plan of a complete read as staged changes and counts it. */
export async function stageMissing(
  db: Database,
  run: Run,
  systemId: string,
  baseDn: string,
  settings: JobSettings,
): Promise<MissingPlan> {
  const action = settings.options.missing === 'delete' ? 'delete' : 'deactivate';
  return db.transaction(async (tx) => {
    await tx.execute(sql`delete from staged_changes where run_id = ${run.id}`);
    // Deactivating an inactive user changes nothing: only active ones are planned.
    await tx.execute(sql`
      insert into staged_changes (tenant_id, run_id, user_id, account_id, action, dn, reason)
      select a.tenant_id, ${run.id}::uuid, a.user_id, a.id, ${action}, a.dn,
        'no longer returned by the directory'
      from accounts a join users u on u.id = a.user_id
      where ${missingWhere(run, systemId, baseDn)}
        ${action === 'deactivate' ? sql`and u.active` : sql``}`);
    const [counts] = await tx.execute<{ planned: number; in_scope: number }>(sql`
      select (select count(*)::int from staged_changes where run_id = ${run.id}) as planned,
        (select count(*)::int from accounts a where ${inScope(run, systemId, baseDn)}) as in_scope`);
    const planned = counts?.planned ?? 0;
    return {
      deactivate: action === 'deactivate' ? planned : 0,
      delete: action === 'delete' ? planned : 0,
      inScope: counts?.in_scope ?? 0,
    };
  });
}

/** Marks this source's accounts the run did not see as missing (after the plan is applied). */
export async function markMissing(db: Database | Tx, run: Run, systemId: string, baseDn: string) {
  await db.execute(sql`update accounts a set state = 'missing', updated_at = now()
    where ${missingWhere(run, systemId, baseDn)}`);
}

/** Deletes a user the way SCIM DELETE does: memberships, outbox rows, audit. */
async function deleteUser(tx: Tx, tenantId: string, userId: string, actor: Actor, reason: string) {
  const [row] = await tx.execute<{ version: number }>(
    sql`select version from users where tenant_id = ${tenantId} and id = ${userId} for update`,
  );
  if (!row) return false;
  const left = (await deleteResource(tx, 'users', tenantId, userId)) ?? [];
  await recordChange(tx, {
    tenantId,
    resourceType: 'User',
    resourceId: userId,
    version: row.version + 1,
    operation: 'delete',
  });
  for (const g of left) {
    await recordChange(tx, {
      tenantId,
      resourceType: 'Group',
      resourceId: g.id,
      version: g.version,
      operation: 'update',
      detail: { members: { added: [], removed: [userId], cleared: false, complete: true } },
    });
  }
  await recordAudit(tx, {
    tenantId,
    actor,
    action: 'user.delete',
    targetType: 'User',
    targetId: userId,
    summary: { reason, groupsLeft: left.length },
  });
  return true;
}

const BATCH = 100;

/**
 * Applies a run's staged changes in batches (one transaction each, keyset by id), then marks
 * the accounts missing. Reports progress per batch; returns the totals.
 */
export async function applyStaged(
  db: Database,
  run: Run,
  actor: Actor,
  onProgress: (c: { deactivated?: number; deleted?: number }) => Promise<unknown>,
): Promise<{ deactivated: number; deleted: number }> {
  const reason = `no longer in the directory (sync run ${run.id})`;
  const total = { deactivated: 0, deleted: 0 };
  let after = '00000000-0000-0000-0000-000000000000';
  while (true) {
    const rows = await db.execute<{ id: string; user_id: string | null; action: string }>(sql`
      select id, user_id, action from staged_changes
      where run_id = ${run.id} and id > ${after} order by id limit ${BATCH}`);
    if (!rows.length) break;
    after = rows[rows.length - 1]?.id as string;
    const batch = { deactivated: 0, deleted: 0 };
    await db.transaction(async (tx) => {
      const deactivate = rows.flatMap((r) =>
        r.user_id && r.action !== 'delete' ? [r.user_id] : [],
      );
      const done = await deactivateUsers(tx, run.tenantId, deactivate, actor, { reason });
      batch.deactivated = done.filter((d) => d.wasActive).length;
      for (const r of rows) {
        if (
          r.user_id &&
          r.action === 'delete' &&
          (await deleteUser(tx, run.tenantId, r.user_id, actor, reason))
        ) {
          batch.deleted++;
        }
      }
    });
    total.deactivated += batch.deactivated;
    total.deleted += batch.deleted;
    await onProgress(batch);
  }
  return total;
}
