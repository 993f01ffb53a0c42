import { type SQL, sql } from 'drizzle-orm';

/**
 * Keyset paging shared by SCIM cursors and GraphQL connections: list order is the sort key
 * (nulls last), then created_at, then id; a position remembers the last row's values, with the
 * sort key as text plus its SQL type so it can be cast back without asking the database.
 */
export interface KeysetPosition {
  /** The row's created_at, ISO 8601. */
  at: string;
  id: string;
  /** For sorted listings: the sort key as text (null when the row has none) and its type. */
  key?: string | null;
  type?: string;
}

export interface KeysetOrder {
  key: SQL;
  descending: boolean;
}

/** SQL types (as pg_typeof prints them) a sort key may have → the cast a cursor's text gets. */
const SORT_KEY_TYPES: Record<string, string> = {
  text: 'text',
  boolean: 'boolean',
  numeric: 'numeric',
  uuid: 'uuid',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
};

/** True for a sort-key type a cursor may carry; anything else in a cursor is forged. */
export const isSortKeyType = (t: unknown): t is string =>
  typeof t === 'string' && Object.hasOwn(SORT_KEY_TYPES, t);

/** ORDER BY for a listing. */
export function orderSql(at: SQL, id: SQL, order?: KeysetOrder): SQL {
  if (!order) return sql`${at}, ${id}`;
  return sql`${order.key} ${order.descending ? sql`desc` : sql`asc`} nulls last, ${at}, ${id}`;
}

/** Rows strictly after `pos` in the order of orderSql. */
export function afterSql(at: SQL, id: SQL, pos: KeysetPosition, order?: KeysetOrder): SQL {
  const tail = sql`(${at}, ${id}) > (${pos.at}::timestamptz, ${pos.id}::uuid)`;
  if (!order || pos.key === undefined || !isSortKeyType(pos.type)) return tail;
  const k = order.key;
  if (pos.key === null) return sql`(${k} is null and ${tail})`;
  const value = sql`cast(${pos.key}::text as ${sql.raw(SORT_KEY_TYPES[pos.type] as string)})`;
  const beyond = order.descending ? sql`${k} < ${value}` : sql`${k} > ${value}`;
  return sql`(${beyond} or (${k} = ${value} and ${tail}) or ${k} is null)`;
}

/** Select-list items that return a row's sort key as text and its SQL type. */
export const sortKeyColumns = (key: SQL): SQL =>
  sql`(${key})::text as sort_key, pg_typeof(${key})::text as sort_type`;
