/**
 * Deciding a held plan (the mass-change guard). Approving queues the run again with its
 * decision: the worker then applies the staged changes only (no second read), under the same
 * one-active-run-per-job rule. Rejecting ends it as cancelled; its staged rows stay as the
 * record of what was refused. Both are audited. A plan is stale once a later run of the job
 * has succeeded (the directory was read again): it can then only be rejected.
 */
import { and, eq, sql } from 'drizzle-orm';
import { type Actor, actorLabel, recordAudit } from '../../api/identity/audit.ts';
import { checkId, IdentityError, notFound } from '../../api/identity/errors.ts';
import type { Database } from '../../db/client.ts';
import { syncRuns } from '../../db/schema/index.ts';
import { pgCode } from '../../scim/render.ts';
import { enqueueRun, type SyncRunRecord } from '../jobs/runs.ts';
import type { QueueRegistry } from '../queues.ts';

type Queues = Pick<QueueRegistry, 'byName'>;

async function decide(
  db: Database,
  tenantId: string,
  actor: Actor,
  runId: string,
  decision: 'approved' | 'rejected',
): Promise<SyncRunRecord> {
  checkId('sync run', runId);
  try {
    return await db.transaction(async (tx) => {
      const mine = and(eq(syncRuns.tenantId, tenantId), eq(syncRuns.id, runId));
      const [run] = await tx.select().from(syncRuns).where(mine).for('update');
      if (!run) throw notFound('sync run', runId);
      if (run.status !== 'awaiting_approval') {
        throw new IdentityError(
          'invalid_transition',
          `only a run awaiting approval can be ${decision} (this one is ${run.status})`,
        );
      }
      if (decision === 'approved') {
        const [later] = await tx.execute<{ id: string }>(sql`
          select id from sync_runs where job_id = ${run.jobId} and status = 'succeeded'
            and not dry_run and created_at > ${run.createdAt.toISOString()} limit 1`);
        if (later) {
          throw new IdentityError(
            'invalid_transition',
            'a later run of this job has read the directory since: this plan is stale; reject it',
          );
        }
      }
      const [after] = await tx
        .update(syncRuns)
        .set(
          decision === 'approved'
            ? {
                status: 'queued',
                decision,
                decidedBy: actorLabel(actor),
                decidedAt: sql`now()`,
                finishedAt: null,
                error: null,
              }
            : {
                status: 'cancelled',
                decision,
                decidedBy: actorLabel(actor),
                decidedAt: sql`now()`,
              },
        )
        .where(mine)
        .returning();
      if (!after) throw notFound('sync run', runId);
      const [staged] = await tx.execute<{ n: number }>(
        sql`select count(*)::int as n from staged_changes where run_id = ${runId}`,
      );
      await recordAudit(tx, {
        tenantId,
        actor,
        action: decision === 'approved' ? 'syncRun.approve' : 'syncRun.reject',
        targetType: 'SyncRun',
        targetId: runId,
        summary: { jobId: run.jobId, stagedChanges: staged?.n ?? 0, heldBecause: run.error },
      });
      return after;
    });
  } catch (e) {
    // The job's one-active-run index: another run is queued or running.
    if (pgCode(e) === '23505') {
      throw new IdentityError(
        'conflict',
        'another run of this job is queued or running; approve when it has finished',
      );
    }
    throw e;
  }
}

/** Approves a held plan: the run is queued again and applies exactly the staged changes. */
export async function approveRun(
  db: Database,
  queues: Queues,
  tenantId: string,
  actor: Actor,
  runId: string,
): Promise<SyncRunRecord> {
  const run = await decide(db, tenantId, actor, runId, 'approved');
  await enqueueRun(queues, run);
  return run;
}

/** Rejects a held plan: nothing is applied; the staged rows remain as the record. */
export const rejectRun = (db: Database, tenantId: string, actor: Actor, runId: string) =>
  decide(db, tenantId, actor, runId, 'rejected');
