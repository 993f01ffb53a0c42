import { type SQL, sql } from 'drizzle-orm';
import { badRequest } from '../errors.ts';
import { isUuid } from '../store/keys.ts';
import { evaluate } from './match.ts';
import type { Operand, StringOp } from './operand.ts';

/** Where a compared value lives: a jsonb expression in `doc`, or a projected column. */
export type Accessor =
  | { kind: 'json'; expr: SQL }
  /** A text column compared per the attribute's caseExact. */
  | { kind: 'text'; col: SQL }
  /** A NOT NULL column holding NFKC + lower-cased text (user_name_key, display_name_key). */
  | { kind: 'key'; col: SQL }
  /** `nullable`: an optional reference (users.organization_id, organizations.parent_id). */
  | { kind: 'uuid'; col: SQL; nullable?: boolean }
  | { kind: 'bool'; col: SQL }
  | { kind: 'timestamp'; col: SQL }
  /** A value known without reading the row (meta.resourceType). */
  | { kind: 'const'; value: string };

/** A positive predicate; `nullable` says whether it can be SQL NULL (matters for negation). */
export interface Pred {
  sql: SQL;
  nullable: boolean;
}

export const TRUE: Pred = { sql: sql`true`, nullable: false };
export const FALSE: Pred = { sql: sql`false`, nullable: false };

/**
 * Applies polarity. Negations are pushed down to leaves (see compile.ts), and a negated
 * leaf must be true where the attribute is absent (SQL NULL), hence `is not true`.
 */
export function polarity(pred: Pred, negated: boolean): SQL {
  if (!negated) return pred.sql;
  return pred.nullable ? sql`(${pred.sql}) is not true` : sql`not (${pred.sql})`;
}

/** The canonical form of userName / group displayName keys (see db/schema/identity.ts). */
export const normaliseKey = (v: string) => v.normalize('NFKC').toLowerCase();

/** Escapes LIKE metacharacters so co/sw/ew match the value literally (ESCAPE '\'). */
export const escapeLike = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`);

const ORDER_SQL = {
  eq: sql.raw('='),
  gt: sql.raw('>'),
  ge: sql.raw('>='),
  lt: sql.raw('<'),
  le: sql.raw('<='),
};

/** jsonb scalar → text (NULL for JSON null). */
export const textOf = (j: SQL) => sql`(${j} #>> '{}')`;

/** jsonb → timestamptz, NULL (not an error) when the stored text is not a valid timestamp. */
export const timestampOf = (j: SQL) => sql`idhub_try_timestamptz(${textOf(j)})`;

export const numericOf = (j: SQL) =>
  sql`case when jsonb_typeof(${j}) = 'number' then (${j})::numeric end`;

function stringCmp(lhs: SQL, op: StringOp, value: string, ci: boolean): SQL {
  const left = ci ? sql`lower(${lhs})` : lhs;
  const bind = (v: string) => (ci ? sql`lower(${v})` : sql`${v}`);
  switch (op) {
    case 'co':
      return sql`${left} like ${bind(`%${escapeLike(value)}%`)} escape '\\'`;
    case 'sw':
      return sql`${left} like ${bind(`${escapeLike(value)}%`)} escape '\\'`;
    case 'ew':
      return sql`${left} like ${bind(`%${escapeLike(value)}`)} escape '\\'`;
    default:
      return sql`${left} ${ORDER_SQL[op]} ${bind(value)}`;
  }
}

const mismatch = () => badRequest('invalidFilter', 'Operator and value do not fit this attribute');

function jsonCmp(j: SQL, operand: Exclude<Operand, { type: 'absent' }>): SQL {
  switch (operand.type) {
    case 'string':
      return stringCmp(textOf(j), operand.op, operand.value, !operand.caseExact);
    case 'boolean':
      return sql`${j} = ${String(operand.value)}::jsonb`;
    case 'number':
      return sql`${numericOf(j)} ${ORDER_SQL[operand.op]} ${operand.value}::numeric`;
    case 'date':
      return sql`${timestampOf(j)} ${ORDER_SQL[operand.op]} ${operand.value}::timestamptz`;
  }
}

function uuidCmp(col: SQL, op: StringOp, value: string): Pred {
  if (op !== 'eq')
    return { sql: stringCmp(sql`${col}::text`, op, value.toLowerCase(), false), nullable: false };
  // Never let a malformed id reach a ::uuid cast: that would be a 500, not "no match".
  return isUuid(value) ? { sql: sql`${col} = ${value}::uuid`, nullable: false } : FALSE;
}

/**
 * The positive SQL predicate for a checked comparison (its `negate` is applied by the caller
 * through `polarity`). Values are always bound parameters.
 */
export function comparePred(acc: Accessor, operand: Exclude<Operand, { type: 'absent' }>): Pred {
  const o = operand;
  switch (acc.kind) {
    case 'json':
      return { sql: jsonCmp(acc.expr, o), nullable: true };
    case 'const':
      return evaluate({ ...o, negate: false }, [acc.value]) ? TRUE : FALSE;
    case 'text':
      if (o.type !== 'string') throw mismatch();
      return { sql: stringCmp(acc.col, o.op, o.value, !o.caseExact), nullable: true };
    case 'key':
      if (o.type !== 'string') throw mismatch();
      return { sql: stringCmp(acc.col, o.op, normaliseKey(o.value), false), nullable: false };
    case 'uuid':
      if (o.type !== 'string') throw mismatch();
      return uuidCmp(acc.col, o.op, o.value);
    case 'bool':
      if (o.type !== 'boolean') throw mismatch();
      return { sql: sql`${acc.col} = ${o.value}`, nullable: false };
    case 'timestamp':
      if (o.type !== 'date') throw mismatch();
      return { sql: sql`${acc.col} ${ORDER_SQL[o.op]} ${o.value}::timestamptz`, nullable: false };
  }
}

/** RFC 7644 "pr": a value that is not null, "", [] or {}. */
export function presentPred(acc: Accessor): Pred {
  switch (acc.kind) {
    case 'json':
      return {
        sql: sql`(${acc.expr}) not in ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb)`,
        nullable: true,
      };
    case 'text':
      return { sql: sql`${acc.col} <> ''`, nullable: true };
    case 'key':
      return { sql: sql`${acc.col} <> ''`, nullable: false };
    case 'uuid':
      return acc.nullable ? { sql: sql`${acc.col} is not null`, nullable: false } : TRUE;
    default:
      return TRUE;
  }
}
