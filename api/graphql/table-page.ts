import { and, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.ts';
import {
  afterSql,
  type ConnectionShape,
  decodeCursor,
  lazyCount,
  orderSql,
  type PageArgs,
  type PositionedRow,
  pageSize,
  toConnection,
} from './paging.ts';

/**
 * One keyset page (created_at, id) of a tenant-owned table, filtered by `where` (which must
 * include the tenant condition); the total is counted only when asked. `scope` binds cursors
 * to this listing (table, tenant, filter).
 */
export async function tablePage<T extends PgTable, R>(
  db: Db,
  opts: {
    scope: string;
    table: T;
    createdAt: PgColumn;
    id: PgColumn;
    where: SQL | undefined;
    map: (row: T['$inferSelect']) => R;
  },
  args: PageArgs,
): Promise<ConnectionShape<R>> {
  const size = pageSize(args);
  const pos = decodeCursor(opts.scope, args.after);
  const at = sql`${opts.createdAt}`;
  const id = sql`${opts.id}`;
  const rows =
    size === 0
      ? []
      : ((await db.db
          .select({ cursorAt: sql<string>`to_json(${at}) #>> '{}'`, t: opts.table } as never)
          .from(opts.table as PgTable)
          .where(and(opts.where, pos ? afterSql(at, id, pos) : undefined))
          .orderBy(orderSql(at, id))
          .limit(size + 1)) as unknown as { cursorAt: string; t: T['$inferSelect'] }[]);
  const positioned: PositionedRow<R>[] = rows.map((r) => ({
    row: opts.map(r.t),
    id: String((r.t as { id: unknown }).id),
    cursorAt: r.cursorAt,
    sortKey: null,
    sortType: null,
  }));
  const count = lazyCount(async () => {
    const [c] = await db.db
      .select({ n: sql<string>`count(*)::text` })
      .from(opts.table as PgTable)
      .where(opts.where);
    return Number(c?.n ?? 0);
  });
  return toConnection(opts.scope, positioned, size, args, count, false);
}
