/** Metadata: the mapped columns' types (information_schema) and what the table is (pg_class). */
import type postgres from 'postgres';
import { ConnectorError } from '../errors.ts';
import { regclassText, type SqlTarget } from './target.ts';

const KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

/** The relation's oid via to_regclass (search_path applies), or not_found. */
async function relation(sql: postgres.Sql, target: SqlTarget) {
  const [row] = await sql<{ oid: string | null; kind: string | null }[]>`
    select c.oid::text as oid, c.relkind::text as kind
    from pg_class c where c.oid = to_regclass(${regclassText(target.table)})`;
  if (!row?.oid)
    throw new ConnectorError('not_found', `table "${target.table}" not found`, '42P01');
  return { oid: row.oid, kind: KINDS[row.kind ?? ''] ?? 'relation' };
}

export async function listAttributes(sql: postgres.Sql, target: SqlTarget) {
  const { oid } = await relation(sql, target);
  const rows = await sql<{ column_name: string; data_type: string; is_nullable: string }[]>`
    select col.column_name, col.data_type, col.is_nullable
    from information_schema.columns col
    join pg_class c on c.relname = col.table_name and c.oid = ${oid}::oid
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = col.table_schema`;
  const byColumn = new Map(rows.map((r) => [r.column_name, r]));
  const attributes = Object.entries(target.columns).map(([name, column]) => {
    const c = byColumn.get(column);
    if (!c) {
      return {
        name,
        multiValued: false,
        required: false,
        description: `column "${column}" not found`,
      };
    }
    return {
      name,
      type: c.data_type,
      multiValued: false,
      required: c.is_nullable === 'NO',
    };
  });
  return { attributes };
}

export async function listResourceTypes(sql: postgres.Sql, target: SqlTarget) {
  const { kind } = await relation(sql, target);
  return { resourceTypes: [{ name: target.table, description: kind }] };
}
