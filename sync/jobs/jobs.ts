/**
 * Sync jobs: the domain writes behind the admin API. Each write runs in one transaction with
 * its audit row, and brings the job's BullMQ scheduler in line before the transaction
 * commits — under the job's row lock, so concurrent edits reach Redis in commit order, and a
 * Redis failure refuses the change instead of leaving a schedule that disagrees with the row.
 */
import { and, eq, sql } from 'drizzle-orm';
import { type Actor, recordAudit } from '../../api/identity/audit.ts';
import { checkId, IdentityError, notFound, unlessTaken } from '../../api/identity/errors.ts';
import { type Executor, inTransaction } from '../../api/identity/executor.ts';
import type { Tx } from '../../db/client.ts';
import {
  dataSources,
  type SyncJobKind,
  type SyncScope,
  syncJobKinds,
  syncJobs,
  syncScopes,
} from '../../db/schema/index.ts';
import { jobSettings, SettingsError } from '../engine/settings.ts';
import type { SyncSchedules } from './schedules.ts';
import { checkCron, checkName, checkTimezone, jsonObject, optionalText } from './validate.ts';

export type SyncJobRecord = typeof syncJobs.$inferSelect;

export interface SyncJobInput {
  dataSourceId: string;
  name: string;
  kind: SyncJobKind;
  /** null: runs by hand only. */
  cron?: string | null;
  timezone?: string | null;
  enabled?: boolean | null;
  baseDn?: string | null;
  scope?: SyncScope | null;
  filter?: string | null;
  mapping?: Record<string, unknown> | null;
  correlation?: Record<string, unknown> | null;
  options?: Record<string, unknown> | null;
}

/** Fields left out keep their value; null clears cron, baseDn and filter (and keeps others). */
export type SyncJobPatch = { [K in keyof SyncJobInput]?: SyncJobInput[K] | null };

const CLEARABLE: ReadonlySet<string> = new Set(['cron', 'baseDn', 'filter']);

function merged(before: SyncJobRecord, patch: SyncJobPatch): SyncJobInput {
  const out: SyncJobInput = { ...before };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || (v === null && !CLEARABLE.has(k))) continue;
    Object.assign(out, { [k]: v });
  }
  return out;
}

type JobState = Omit<SyncJobRecord, 'id' | 'tenantId' | 'createdAt' | 'updatedAt'>;

/** The final state of a job, validated as a whole. */
function validated(s: SyncJobInput): JobState {
  if (!syncJobKinds.includes(s.kind)) {
    throw new IdentityError('invalid', `kind must be one of ${syncJobKinds.join(', ')}`);
  }
  const scope = s.scope ?? 'sub';
  if (!syncScopes.includes(scope)) {
    throw new IdentityError('invalid', `scope must be one of ${syncScopes.join(', ')}`);
  }
  return {
    dataSourceId: s.dataSourceId,
    name: checkName(s.name),
    kind: s.kind,
    cron: s.cron == null ? null : checkCron(s.cron),
    timezone: checkTimezone(s.timezone ?? 'UTC'),
    enabled: s.enabled ?? true,
    baseDn: optionalText('baseDn', s.baseDn),
    scope,
    filter: optionalText('filter', s.filter),
    ...checkedSettings(s.kind, {
      mapping: jsonObject('mapping', s.mapping ?? {}),
      correlation: jsonObject('correlation', s.correlation ?? {}),
      options: jsonObject('options', s.options ?? {}),
    }),
  };
}

/** Mapping (compiled against the SCIM schemas), correlation and options, checked as the engine reads them. */
function checkedSettings<T extends { mapping: object; correlation: object; options: object }>(
  kind: SyncJobKind,
  s: T,
): T {
  try {
    jobSettings({ kind, ...s });
  } catch (e) {
    if (e instanceof SettingsError) throw new IdentityError('invalid', e.message);
    throw e;
  }
  return s;
}

/** A job reads one LDAP data source of its own tenant. */
async function checkDataSource(tx: Tx, tenantId: string, id: string): Promise<void> {
  checkId('data source', id);
  const [ds] = await tx
    .select({ kind: dataSources.kind })
    .from(dataSources)
    .where(and(eq(dataSources.tenantId, tenantId), eq(dataSources.id, id)));
  if (!ds) throw notFound('data source', id);
  if (ds.kind !== 'ldap') {
    throw new IdentityError('invalid', `a sync job reads an LDAP data source, not ${ds.kind}`);
  }
}

const nameTaken = (name: string) => `a sync job named "${name}" already exists`;

/** What an audit row says about a job: its settings, never mapping contents. */
const described = (s: JobState) => ({
  name: s.name,
  kind: s.kind,
  dataSourceId: s.dataSourceId,
  cron: s.cron,
  timezone: s.timezone,
  enabled: s.enabled,
});

export async function createSyncJob(
  db: Executor,
  schedules: SyncSchedules,
  tenantId: string,
  actor: Actor,
  input: SyncJobInput,
): Promise<SyncJobRecord> {
  const s = validated(input);
  return inTransaction(db, async (tx) => {
    await checkDataSource(tx, tenantId, s.dataSourceId);
    const [row] = await unlessTaken(nameTaken(s.name), () =>
      tx
        .insert(syncJobs)
        .values({ tenantId, ...s })
        .returning(),
    );
    if (!row) throw new Error('insert returned no sync job');
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'syncJob.create',
      targetType: 'SyncJob',
      targetId: row.id,
      summary: described(s),
    });
    await schedules.upsert(row);
    return row;
  });
}

async function lockJob(tx: Tx, tenantId: string, id: string): Promise<SyncJobRecord> {
  checkId('sync job', id);
  const [row] = await tx
    .select()
    .from(syncJobs)
    .where(and(eq(syncJobs.tenantId, tenantId), eq(syncJobs.id, id)))
    .for('update');
  if (!row) throw notFound('sync job', id);
  return row;
}

/** Changes a job (enable/disable are patches of `enabled`); the result is validated whole. */
export async function updateSyncJob(
  db: Executor,
  schedules: SyncSchedules,
  tenantId: string,
  actor: Actor,
  id: string,
  patch: SyncJobPatch,
  action = 'syncJob.update',
): Promise<SyncJobRecord> {
  return inTransaction(db, async (tx) => {
    const before = await lockJob(tx, tenantId, id);
    const s = validated(merged(before, patch));
    if (s.dataSourceId !== before.dataSourceId) await checkDataSource(tx, tenantId, s.dataSourceId);
    const [row] = await unlessTaken(nameTaken(s.name), () =>
      tx
        .update(syncJobs)
        .set({ ...s, updatedAt: sql`now()` })
        .where(eq(syncJobs.id, before.id))
        .returning(),
    );
    if (!row) throw notFound('sync job', id);
    const changed = (Object.keys(s) as (keyof JobState)[]).filter(
      (k) => JSON.stringify(before[k]) !== JSON.stringify(row[k]),
    );
    await recordAudit(tx, {
      tenantId,
      actor,
      action,
      targetType: 'SyncJob',
      targetId: row.id,
      summary: { ...described(s), changed },
    });
    await schedules.upsert(row);
    return row;
  });
}

export const setSyncJobEnabled = (
  db: Executor,
  schedules: SyncSchedules,
  tenantId: string,
  actor: Actor,
  id: string,
  enabled: boolean,
) =>
  updateSyncJob(
    db,
    schedules,
    tenantId,
    actor,
    id,
    { enabled },
    `syncJob.${enabled ? 'enable' : 'disable'}`,
  );

/** Deletes a job, its runs and staged changes (cascade), and its schedule. */
export async function deleteSyncJob(
  db: Executor,
  schedules: SyncSchedules,
  tenantId: string,
  actor: Actor,
  id: string,
): Promise<SyncJobRecord> {
  return inTransaction(db, async (tx) => {
    const before = await lockJob(tx, tenantId, id);
    await tx.delete(syncJobs).where(eq(syncJobs.id, before.id));
    await recordAudit(tx, {
      tenantId,
      actor,
      action: 'syncJob.delete',
      targetType: 'SyncJob',
      targetId: before.id,
      summary: { name: before.name, kind: before.kind },
    });
    await schedules.remove(before.id);
    return before;
  });
}
