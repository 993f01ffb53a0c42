import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { compileFilter, compileSortKey } from '../../scim/filter/compile.ts';
import { parseFilter } from '../../scim/filter/parse.ts';
import { groupKind, userKind } from '../../scim/schemas/index.ts';
import {
  afterSql,
  type ConnectionShape,
  decodeCursor,
  lazyCount,
  type Order,
  orderSql,
  type PageArgs,
  type PositionedRow,
  pageSize,
  toConnection,
} from './paging.ts';
import { type GroupRow, groupFromJson, type UserRow, userFromJson } from './rows.ts';

export interface SearchArgs extends PageArgs {
  /** A SCIM filter (RFC 7644 §3.4.2.2), compiled by the SCIM filter compiler. */
  filter?: string | null;
  /** A SCIM attribute path, as SCIM's sortBy. */
  sortBy?: string | null;
  descending: boolean;
}

const TABLES = {
  users: { kind: userKind, fromJson: userFromJson },
  groups: { kind: groupKind, fromJson: groupFromJson },
} as const;

type RowOf<T extends keyof typeof TABLES> = T extends 'users' ? UserRow : GroupRow;

/**
 * One page of a tenant's users or groups: filter, sort and keyset paging run in PostgreSQL
 * (SCIM's compiler, bound parameters); the total is counted only when asked.
 */
export async function searchPage<T extends keyof typeof TABLES>(
  db: Db,
  tenantId: string,
  table: T,
  args: SearchArgs,
): Promise<ConnectionShape<RowOf<T>>> {
  const { kind, fromJson } = TABLES[table];
  const size = pageSize(args);
  const t = sql.identifier(table);
  const filterText = args.filter?.trim() ? args.filter : undefined;
  const where = filterText ? compileFilter(parseFilter(filterText), kind, table) : undefined;
  const order: Order | undefined = args.sortBy
    ? { key: compileSortKey(args.sortBy, kind, table), descending: args.descending }
    : undefined;
  const scope = JSON.stringify([table, filterText ?? '', args.sortBy ?? '', args.descending]);
  const pos = decodeCursor(scope, args.after);
  const at = sql`${t}.created_at`;
  const id = sql`${t}.id`;
  const filtered = sql`${t}.tenant_id = ${tenantId}${where ? sql` and (${where})` : sql``}`;
  const after = pos ? sql` and ${afterSql(at, id, pos, order)}` : sql``;
  const rows =
    size === 0
      ? []
      : await db.db.execute<{
          r: Record<string, unknown>;
          cursor_at: string;
          sort_key: string | null;
          sort_type: string | null;
        }>(sql`select row_to_json(${t}.*) as r, to_json(${at}) #>> '{}' as cursor_at,
            ${order ? sql`(${order.key})::text` : sql`null`} as sort_key,
            ${order ? sql`pg_typeof(${order.key})::text` : sql`null`} as sort_type
          from ${t} where ${filtered}${after}
          order by ${orderSql(at, id, order)} limit ${size + 1}`);
  const positioned: PositionedRow<RowOf<T>>[] = rows.map((r) => ({
    row: fromJson(r.r) as RowOf<T>,
    id: String(r.r.id),
    cursorAt: r.cursor_at,
    sortKey: r.sort_key,
    sortType: r.sort_type,
  }));
  const count = lazyCount(async () => {
    const [c] = await db.db.execute<{ n: string }>(
      sql`select count(*)::text as n from ${t} where ${filtered}`,
    );
    return Number(c?.n ?? 0);
  });
  return toConnection(scope, positioned, size, args, count, Boolean(order));
}
