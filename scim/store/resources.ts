import { type SQL, sql } from 'drizzle-orm';
import type { Database, Tx } from '../../db/client.ts';
import type { ScimDoc } from '../../db/schema/index.ts';
import { ScimError } from '../errors.ts';
import { pgCode } from '../render.ts';
import { nameKey } from './keys.ts';
import { groupMembersSql, userGroupsSql } from './related.ts';
import type { ListOptions, ListResult, RelatedRef, ResourceRow } from './types.ts';

type Table = 'users' | 'groups';
type Executor = Database | Tx;

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** The columns projected out of a document for uniqueness, indexes and fast filters. */
function columns(table: Table, doc: ScimDoc): Record<string, unknown> {
  const externalId = str(doc.externalId);
  if (table === 'users') {
    const userName = str(doc.userName) ?? '';
    return {
      user_name: userName,
      user_name_key: nameKey(userName),
      external_id: externalId,
      active: doc.active !== false,
      display_name: str(doc.displayName),
    };
  }
  const displayName = str(doc.displayName) ?? '';
  return {
    display_name: displayName,
    display_name_key: nameKey(displayName),
    external_id: externalId,
  };
}

const relatedSql = (table: Table, tenantId: string) =>
  table === 'users' ? userGroupsSql(tenantId) : groupMembersSql;
const tableSql = (table: Table) => sql.identifier(table);

type RawRow = {
  id: string;
  doc: ScimDoc;
  external_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  related?: RelatedRef[];
};

const toRow = (r: RawRow): ResourceRow => ({
  id: r.id,
  doc: r.doc,
  externalId: r.external_id,
  version: r.version,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  ...(r.related ? { related: r.related } : {}),
});

function uniquenessError(table: Table, doc: ScimDoc): ScimError {
  const what =
    table === 'users'
      ? `userName "${String(doc.userName)}"`
      : `displayName "${String(doc.displayName)}"`;
  return new ScimError(409, 'uniqueness', `${what} is already taken in this tenant`);
}

/** Runs a write; a unique-index violation becomes 409 uniqueness. */
async function guardUnique<T>(table: Table, doc: ScimDoc, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (pgCode(e) === '23505') throw uniquenessError(table, doc);
    throw e;
  }
}

const selectList = (table: Table, related?: { tenantId: string }) =>
  sql`${tableSql(table)}.id, ${tableSql(table)}.doc, ${tableSql(table)}.external_id, ${tableSql(table)}.version,
      to_json(${tableSql(table)}.created_at) #>> '{}' as created_at,
      to_json(${tableSql(table)}.updated_at) #>> '{}' as updated_at${related ? sql`, ${relatedSql(table, related.tenantId)} as related` : sql``}`;

/** Inserts a resource. Unique violations answer 409; the caller writes the outbox row. */
export async function insertResource(
  tx: Tx,
  table: Table,
  tenantId: string,
  doc: ScimDoc,
): Promise<ResourceRow> {
  const cols = columns(table, doc);
  const names = sql.join(
    Object.keys(cols).map((k) => sql.identifier(k)),
    sql`, `,
  );
  const values = sql.join(
    Object.values(cols).map((v) => sql`${v}`),
    sql`, `,
  );
  const rows = await guardUnique(table, doc, () =>
    tx.execute<RawRow>(sql`insert into ${tableSql(table)} (tenant_id, doc, ${names})
      values (${tenantId}, ${JSON.stringify(doc)}::jsonb, ${values})
      returning ${selectList(table)}`),
  );
  return toRow(rows[0] as RawRow);
}

/** Reads one resource of the tenant; `lock` takes the row lock for a read-modify-write. */
export async function getResource(
  db: Executor,
  table: Table,
  tenantId: string,
  id: string,
  opts: { withRelated: boolean; lock?: boolean },
): Promise<ResourceRow | undefined> {
  const rows =
    await db.execute<RawRow>(sql`select ${selectList(table, opts.withRelated ? { tenantId } : undefined)}
    from ${tableSql(table)} where tenant_id = ${tenantId} and id = ${id}${opts.lock ? sql` for update` : sql``}`);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Replaces the stored document, bumping version and lastModified. */
export async function updateResource(
  tx: Tx,
  table: Table,
  tenantId: string,
  id: string,
  doc: ScimDoc,
): Promise<ResourceRow> {
  const cols = columns(table, doc);
  const sets = sql.join(
    Object.entries(cols).map(([k, v]) => sql`${sql.identifier(k)} = ${v}`),
    sql`, `,
  );
  const rows = await guardUnique(table, doc, () =>
    tx.execute<RawRow>(sql`update ${tableSql(table)} set doc = ${JSON.stringify(doc)}::jsonb, ${sets},
      version = version + 1, updated_at = greatest(now(), updated_at + interval '1 millisecond')
      where tenant_id = ${tenantId} and id = ${id} returning ${selectList(table)}`),
  );
  return toRow(rows[0] as RawRow);
}

/** Bumps version and lastModified without touching the document (membership changes). */
export async function touchResource(
  tx: Tx,
  table: Table,
  tenantId: string,
  id: string,
): Promise<ResourceRow> {
  const rows = await tx.execute<RawRow>(sql`update ${tableSql(table)}
    set version = version + 1, updated_at = greatest(now(), updated_at + interval '1 millisecond')
    where tenant_id = ${tenantId} and id = ${id} returning ${selectList(table)}`);
  return toRow(rows[0] as RawRow);
}

/**
 * Deletes a resource and the memberships that point at it. Returns the groups it left, with
 * their bumped versions (the caller records their change), or undefined when absent.
 */
export async function deleteResource(
  tx: Tx,
  table: Table,
  tenantId: string,
  id: string,
): Promise<{ id: string; version: number }[] | undefined> {
  const rows = await tx.execute<{ id: string }>(
    sql`delete from ${tableSql(table)} where tenant_id = ${tenantId} and id = ${id} returning id`,
  );
  if (rows.length === 0) return undefined;
  const left = await tx.execute<{ id: string; version: number }>(sql`with gone as (
      delete from group_members where tenant_id = ${tenantId} and member_id = ${id} returning group_id)
    update groups set version = version + 1,
      updated_at = greatest(now(), updated_at + interval '1 millisecond')
    where tenant_id = ${tenantId} and id in (select group_id from gone) returning id, version`);
  return [...left];
}

/** One page of a filtered, sorted listing; the total is counted in SQL only when needed. */
export async function listResources(
  db: Database,
  table: Table,
  tenantId: string,
  o: ListOptions,
): Promise<ListResult> {
  const t = tableSql(table);
  const conds: SQL[] = [sql`${t}.tenant_id = ${tenantId}`];
  if (o.where) conds.push(sql`(${o.where})`);
  const filtered = sql.join(conds, sql` and `);
  const keyset = o.after ? sql` and ${await afterPosition(db, table, o.after, o.orderBy)}` : sql``;
  const dir = o.orderBy?.descending ? sql`desc` : sql`asc`;
  const order = o.orderBy
    ? sql`${o.orderBy.key} ${dir} nulls last, ${t}.created_at, ${t}.id`
    : sql`${t}.created_at, ${t}.id`;
  const sortKey = o.withSortKey && o.orderBy ? o.orderBy.key : undefined;
  const keyCol = sortKey ? sql`, (${sortKey})::text as sort_key` : sql``;
  type PageRow = RawRow & { sort_key?: string | null };
  const rows =
    o.limit === 0
      ? ([] as PageRow[])
      : // The page is chosen first, so computed references are built for its rows only, not
        // for every row an OFFSET skips.
        await db.execute<PageRow>(sql`select ${selectList(table, o.withRelated ? { tenantId } : undefined)}${sortKey ? sql`, ${t}.sort_key` : sql``}
          from (select ${t}.*${keyCol} from ${t} where ${filtered}${keyset}
                order by ${order} limit ${o.limit} offset ${o.offset}) as ${t}
          order by ${order}`);
  const complete = o.offset === 0 && !o.after && o.limit > 0 && rows.length < o.limit;
  const total = complete ? rows.length : await countResources(db, table, filtered);
  const last = rows[rows.length - 1];
  return {
    rows: rows.map(toRow),
    total,
    ...(last && sortKey ? { lastKey: last.sort_key ?? null } : {}),
  };
}

/** SQL types a sort key can have, as cast targets for a cursor's text key. */
const KEY_TYPES: Record<string, string> = {
  text: 'text',
  boolean: 'boolean',
  numeric: 'numeric',
  uuid: 'uuid',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
};

/** The SQL type of a sort expression, asked of PostgreSQL on an all-null row (no table read). */
async function sortKeyType(db: Database, table: Table, key: SQL): Promise<SQL> {
  const t = tableSql(table);
  const rows = await db.execute<{ type: string }>(
    sql`select pg_typeof(${key})::text as type from (select (null::${t}).*) as ${t}`,
  );
  const type = KEY_TYPES[rows[0]?.type ?? ''];
  if (!type) throw new Error(`unsupported sort key type ${rows[0]?.type}`);
  return sql.raw(type);
}

/**
 * Rows strictly after a cursor position in list order (sort key nulls last, then created_at,
 * id). The cursor's key is text, cast back to the sort expression's own type.
 */
async function afterPosition(
  db: Database,
  table: Table,
  after: NonNullable<ListOptions['after']>,
  orderBy: ListOptions['orderBy'],
): Promise<SQL> {
  const t = tableSql(table);
  const tail = sql`(${t}.created_at, ${t}.id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)`;
  if (!orderBy || after.key === undefined) return tail;
  const k = orderBy.key;
  if (after.key === null) return sql`(${k} is null and ${tail})`;
  const at = sql`cast(${after.key}::text as ${await sortKeyType(db, table, k)})`;
  const beyond = orderBy.descending ? sql`${k} < ${at}` : sql`${k} > ${at}`;
  return sql`(${beyond} or (${k} = ${at} and ${tail}) or ${k} is null)`;
}

async function countResources(db: Database, table: Table, filtered: SQL): Promise<number> {
  const rows = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from ${tableSql(table)} where ${filtered}`,
  );
  return Number(rows[0]?.n ?? 0);
}
