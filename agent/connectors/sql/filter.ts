/**
 * The SQL connector's filter: JSON text of a flat object, one condition per attribute, all
 * ANDed. Attributes resolve through the configured `columns` map only; values are bound.
 *
 *   {"userName": "alice"}                   equality ({"x": null} is IS NULL)
 *   {"dept": {"in": ["hr", "it"]}}          membership (an empty list matches nothing)
 *   {"age": {"ge": 18, "lt": 65}}           gt / ge / lt / le, several ANDed
 *   {"status": {"ne": "gone"}}              IS DISTINCT FROM (rows with NULL match; ne null = IS NOT NULL)
 *
 * Values are strings, numbers or booleans; each is sent as text of unknown type so PostgreSQL
 * casts it to the column's type (a bad value is the server's 22P02, not a silent mismatch).
 */
import type postgres from 'postgres';
import { z } from 'zod';
import { describeIssues } from '../../protocol.ts';
import { refused } from '../errors.ts';

type Sql = postgres.Sql;
type Fragment = postgres.Fragment;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null, or an object of in/gt/ge/lt/le/ne',
});
const value = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const comparison = z
  .strictObject({
    in: z.array(value).max(1000).optional(),
    gt: value.optional(),
    ge: value.optional(),
    lt: value.optional(),
    le: value.optional(),
    ne: z
      .union([value, z.null()], { error: 'must be a string, number, boolean or null' })
      .optional(),
  })
  .refine((o) => Object.keys(o).length > 0, 'give at least one of in, gt, ge, lt, le, ne');

export type SqlScalar = z.output<typeof scalar>;
export type SqlFilter = Record<string, SqlScalar | z.output<typeof comparison>>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses filter text; a malformed filter is `refused` with every problem listed. */
export function parseSqlFilter(text: string): SqlFilter {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw refused('filter: must be JSON text of an object like {"userName": "alice"}');
  }
  if (!isObject(json)) throw refused('invalid filter: must be an object of attribute conditions');
  const out: SqlFilter = {};
  const problems: string[] = [];
  for (const [attribute, cond] of Object.entries(json)) {
    // Checked one by one, so an error names the operator instead of "invalid union".
    const r = isObject(cond) ? comparison.safeParse(cond) : scalar.safeParse(cond);
    if (r.success) out[attribute] = r.data;
    else {
      const at = (p: string) =>
        p.startsWith('(root): ') ? `${attribute}: ${p.slice(8)}` : `${attribute}.${p}`;
      problems.push(...describeIssues(r.error).map(at));
    }
  }
  if (problems.length) throw refused(`invalid filter: ${problems.join('; ')}`);
  return out;
}

/** Text of unknown type: PostgreSQL casts it to the column's type. */
export const bind = (v: string | number | boolean) => String(v);

/** The column of an attribute, or `refused` naming the attributes that exist. */
export function columnOf(columns: Record<string, string>, attribute: string, where: string) {
  const column = Object.hasOwn(columns, attribute) ? columns[attribute] : undefined;
  if (column === undefined) {
    const known = Object.keys(columns).join(', ');
    throw refused(`unknown attribute "${attribute}" in ${where}; known: ${known}`);
  }
  return column;
}

export function and(sql: Sql, parts: Fragment[]): Fragment {
  const [first, ...rest] = parts;
  if (!first) return sql`true`;
  return rest.reduce((acc, p) => sql`${acc} and ${p}`, first);
}

/** Compiles a parsed filter into a WHERE fragment over the mapped columns. */
export function compileFilter(
  sql: Sql,
  filter: SqlFilter,
  columns: Record<string, string>,
): Fragment {
  const parts = Object.entries(filter).flatMap(([attribute, cond]) => {
    const col = sql(columnOf(columns, attribute, 'filter'));
    if (cond === null) return [sql`${col} is null`];
    if (typeof cond !== 'object') return [sql`${col} = ${bind(cond)}`];
    const out: Fragment[] = [];
    if (cond.in) out.push(cond.in.length ? sql`${col} in ${sql(cond.in.map(bind))}` : sql`false`);
    if (cond.gt !== undefined) out.push(sql`${col} > ${bind(cond.gt)}`);
    if (cond.ge !== undefined) out.push(sql`${col} >= ${bind(cond.ge)}`);
    if (cond.lt !== undefined) out.push(sql`${col} < ${bind(cond.lt)}`);
    if (cond.le !== undefined) out.push(sql`${col} <= ${bind(cond.le)}`);
    if (cond.ne === null) out.push(sql`${col} is not null`);
    else if (cond.ne !== undefined) out.push(sql`${col} is distinct from ${bind(cond.ne)}`);
    return out;
  });
  return and(sql, parts);
}
