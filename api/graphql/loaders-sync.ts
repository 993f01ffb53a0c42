import DataLoader from 'dataloader';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { stagedChanges, syncJobs, syncRuns } from '../../db/schema/index.ts';
import { isUuid } from '../../scim/store/keys.ts';
import type { SyncJobRecord } from '../../sync/jobs/jobs.ts';
import type { SyncRunRecord } from '../../sync/jobs/runs.ts';
import {
  type ConnectionShape,
  decodeCursor,
  lazyCount,
  type PageArgs,
  pageSize,
  toConnection,
} from './paging.ts';
import { tag } from './rows.ts';

/** The table's own `kind` (import_active | …) moves to `jobKind`: `kind` is the type tag. */
export type SyncJobRow = Omit<SyncJobRecord, 'kind'> & {
  kind: 'SyncJob';
  jobKind: SyncJobRecord['kind'];
};
export type SyncRunRow = SyncRunRecord & { kind: 'SyncRun' };

export const syncJobRow = ({ kind, ...r }: SyncJobRecord): SyncJobRow => ({
  ...r,
  kind: 'SyncJob',
  jobKind: kind,
});
export const syncRunRow = (r: SyncRunRecord): SyncRunRow => tag('SyncRun', r);

const byId = <T extends { id: string }>(keys: readonly string[], rows: T[]) => {
  const map = new Map(rows.map((r) => [r.id, r]));
  return keys.map((k) => map.get(k.toLowerCase()) ?? null);
};

/**
 * Per-request loaders of sync jobs and runs. Like the other loaders, each filters by the
 * caller's tenant: another tenant's id loads as null, the operator loads nothing.
 */
export function createSyncLoaders(db: Db, tenantId: string | null) {
  const d = db.db;
  const ids = (keys: readonly string[]) => keys.filter(isUuid).map((k) => k.toLowerCase());

  const syncJob = new DataLoader<string, SyncJobRow | null>(async (keys) => {
    const wanted = ids(keys);
    if (!tenantId || !wanted.length) return keys.map(() => null);
    const rows = await d
      .select()
      .from(syncJobs)
      .where(and(eq(syncJobs.tenantId, tenantId), inArray(syncJobs.id, wanted)));
    return byId(keys, rows.map(syncJobRow));
  });

  const syncRun = new DataLoader<string, SyncRunRow | null>(async (keys) => {
    const wanted = ids(keys);
    if (!tenantId || !wanted.length) return keys.map(() => null);
    const rows = await d
      .select()
      .from(syncRuns)
      .where(and(eq(syncRuns.tenantId, tenantId), inArray(syncRuns.id, wanted)));
    return byId(keys, rows.map(syncRunRow));
  });

  /** How many changes each run holds back for approval (one grouped query per request). */
  const stagedChangeCount = new DataLoader<string, number>(async (keys) => {
    if (!tenantId) return keys.map(() => 0);
    const rows = await d
      .select({ runId: stagedChanges.runId, n: sql<number>`count(*)::int` })
      .from(stagedChanges)
      .where(and(eq(stagedChanges.tenantId, tenantId), inArray(stagedChanges.runId, ids(keys))))
      .groupBy(stagedChanges.runId);
    const map = new Map(rows.map((r) => [r.runId, r.n]));
    return keys.map((k) => map.get(k) ?? 0);
  });

  return { syncJob, syncRun, stagedChangeCount };
}

export type SyncLoaders = ReturnType<typeof createSyncLoaders>;

/** One page of a job's runs, newest first (keyset on created_at, id descending). */
export async function runsPage(
  db: Db,
  tenantId: string,
  jobId: string,
  args: PageArgs,
): Promise<ConnectionShape<SyncRunRow>> {
  const scope = JSON.stringify(['sync-runs', tenantId, jobId]);
  const size = pageSize(args);
  const pos = decodeCursor(scope, args.after);
  const where = and(eq(syncRuns.tenantId, tenantId), eq(syncRuns.jobId, jobId));
  const rows =
    size === 0
      ? []
      : await db.db
          .select({ cursorAt: sql<string>`to_json(${syncRuns.createdAt}) #>> '{}'`, run: syncRuns })
          .from(syncRuns)
          .where(
            and(
              where,
              pos
                ? sql`(${syncRuns.createdAt}, ${syncRuns.id}) < (${pos.at}::timestamptz, ${pos.id}::uuid)`
                : undefined,
            ),
          )
          .orderBy(desc(syncRuns.createdAt), desc(syncRuns.id))
          .limit(size + 1);
  const positioned = rows.map((r) => ({
    row: syncRunRow(r.run),
    id: r.run.id,
    cursorAt: r.cursorAt,
    sortKey: null,
    sortType: null,
  }));
  const count = lazyCount(async () => {
    const [c] = await db.db.select({ n: sql<number>`count(*)::int` }).from(syncRuns).where(where);
    return c?.n ?? 0;
  });
  return toConnection(scope, positioned, size, args, count, false);
}
