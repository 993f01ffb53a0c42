/**
 * Exports: upsert and delete by key. `key` names key columns (exactly the configured ones);
 * `values` names attributes, mapped through `columns`. Values are bound as text of unknown type.
 */
import type postgres from 'postgres';
import { ConnectorError, refused } from '../errors.ts';
import { and, bind, columnOf, type SqlScalar } from './filter.ts';
import { entryId } from './paging.ts';
import type { SqlTarget } from './target.ts';

type Row = Record<string, string | null>;
type Key = Record<string, SqlScalar>;

/** The key as [column, text] in configured order; refused unless it names exactly the key columns. */
function keyValues(target: SqlTarget, key: Key): [string, string][] {
  const given = Object.keys(key);
  const exact =
    given.length === target.key.length && target.key.every((k) => Object.hasOwn(key, k));
  if (!exact) throw refused(`key must give exactly the key columns: ${target.key.join(', ')}`);
  return target.key.map((k) => {
    const v = key[k];
    if (v === null || v === undefined) throw refused(`key column "${k}" must not be null`);
    return [k, bind(v)];
  });
}

/** Mapped non-key columns; an attribute mapped onto a key column must agree with the key. */
function valueRow(target: SqlTarget, keyRow: Row, values: Key): Row {
  const row: Row = {};
  for (const [attribute, v] of Object.entries(values)) {
    const column = columnOf(target.columns, attribute, 'values');
    const text = v === null ? null : bind(v);
    if (Object.hasOwn(keyRow, column)) {
      if (keyRow[column] !== text) throw refused(`"${attribute}" is a key column: change the key`);
    } else row[column] = text;
  }
  return row;
}

const whereKey = (sql: postgres.Sql, keyRow: Row) =>
  and(
    sql,
    Object.entries(keyRow).map(([c, v]) => sql`${sql(c)} = ${v}`),
  );

/** SQLSTATEs meaning "ON CONFLICT cannot work here" (no matching unique index; a view). */
const NO_ON_CONFLICT = new Set(['42P10', '0A000']);
const NOT_NULL_VIOLATION = '23502';

export async function upsert(sql: postgres.Sql, target: SqlTarget, key: Key, values: Key) {
  const keyRow: Row = Object.fromEntries(keyValues(target, key));
  const row = valueRow(target, keyRow, values);
  const id = entryId(Object.values(keyRow).map(String));
  if (!target.noUniqueIndex) {
    try {
      await upsertOnConflict(sql, target, keyRow, row);
      return { id };
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      // PostgreSQL checks NOT NULL on the proposed row before ON CONFLICT: a partial update of
      // an existing row lands here, and a plain UPDATE serves it.
      if (code === NOT_NULL_VIOLATION && (await updateOnly(sql, target, keyRow, row))) {
        return { id };
      }
      if (!NO_ON_CONFLICT.has(code)) throw e;
      target.noUniqueIndex = true; // remembered: later upserts go straight to the fallback
    }
  }
  await updateThenInsert(sql, target, keyRow, row);
  return { id };
}

async function upsertOnConflict(sql: postgres.Sql, target: SqlTarget, keyRow: Row, row: Row) {
  const all = { ...keyRow, ...row };
  const conflict = sql`on conflict (${sql(target.key)})`;
  const action = Object.keys(row).length ? sql`do update set ${sql(row)}` : sql`do nothing`;
  await sql`insert into ${sql(target.table)} ${sql(all)} ${conflict} ${action}`;
}

/** True when a row with the key existed and was updated. */
async function updateOnly(sql: postgres.Sql, target: SqlTarget, keyRow: Row, row: Row) {
  if (!Object.keys(row).length) return false;
  const where = whereKey(sql, keyRow);
  const { count } = await sql`update ${sql(target.table)} set ${sql(row)} where ${where}`;
  return count > 0;
}

/** Without a unique index on the key: UPDATE, and INSERT when nothing matched, atomically. */
async function updateThenInsert(sql: postgres.Sql, target: SqlTarget, keyRow: Row, row: Row) {
  const where = whereKey(sql, keyRow); // a fragment: rendered inside the transaction's queries
  const lock = JSON.stringify([target.table, ...Object.values(keyRow)]);
  await sql.begin(async (tx) => {
    // Serialises upserts of one key: with no unique index, nothing else stops a double INSERT.
    await tx`select pg_advisory_xact_lock(hashtextextended(${lock}, 0))`;
    const updated = Object.keys(row).length
      ? (await tx`update ${tx(target.table)} set ${tx(row)} where ${where}`).count
      : (await tx`select 1 from ${tx(target.table)} where ${where} limit 1`).count;
    if (updated === 0) await tx`insert into ${tx(target.table)} ${tx({ ...keyRow, ...row })}`;
  });
}

export async function deleteByKey(sql: postgres.Sql, target: SqlTarget, key: Key) {
  const keyRow: Row = Object.fromEntries(keyValues(target, key));
  const id = entryId(Object.values(keyRow).map(String));
  const { count } = await sql`delete from ${sql(target.table)} where ${whereKey(sql, keyRow)}`;
  if (count === 0) throw new ConnectorError('not_found', `no row with key ${id}`);
  return { id };
}
