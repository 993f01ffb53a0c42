import { type SQL, sql } from 'drizzle-orm';
import { badRequest } from '../errors.ts';
import type { AttributeDef, ResourceKind } from '../schemas/index.ts';
import { isAttrPath } from './path.ts';
import { comparedAttr, resolveFilterPath } from './resolve.ts';
import { type Accessor, numericOf, textOf, timestampOf } from './sql-leaf.ts';
import {
  columnAccessor,
  computedArray,
  docAt,
  firstElement,
  isMembership,
  type ResourceTable,
} from './sql-targets.ts';

/** A doc value as a sortable SQL scalar of the attribute's type (NULL when ill-typed). */
function typedValue(j: SQL, def: AttributeDef): SQL {
  switch (def.type) {
    case 'boolean':
      return sql`case when jsonb_typeof(${j}) = 'boolean' then (${j})::boolean end`;
    case 'integer':
    case 'decimal':
      return numericOf(j);
    case 'dateTime':
      return timestampOf(j);
    default:
      return def.caseExact ? textOf(j) : sql`lower(${textOf(j)})`;
  }
}

function columnValue(acc: Accessor, def: AttributeDef): SQL {
  switch (acc.kind) {
    case 'json':
      return typedValue(acc.expr, def);
    case 'const':
      return sql`${acc.value}::text`;
    case 'text':
      return def.caseExact ? acc.col : sql`lower(${acc.col})`;
    default:
      return acc.col;
  }
}

/**
 * The ORDER BY expression for `sortBy` (RFC 7644 §3.4.2.3): any singular attribute or
 * sub-attribute, case-insensitive unless caseExact. A multi-valued attribute sorts by its
 * primary element's value (else the first element's). Unknown or unsortable → 400
 * invalidValue. The caller adds the direction and a unique tiebreaker (id) for stable paging.
 */
export function compileSortKey(path: string, kind: ResourceKind, table: ResourceTable): SQL {
  if (!isAttrPath(path)) throw badRequest('invalidValue', `Invalid sortBy path '${path}'`);
  const resolved = resolveFilterPath(kind, path, undefined, 'invalidValue');
  if (isMembership(kind, resolved)) {
    throw badRequest('invalidValue', `Cannot sort by membership attribute '${path}'`);
  }
  const r = comparedAttr(resolved, 'invalidValue');
  const def = r.sub ?? r.attr;
  const col = columnAccessor(kind, table, r, 'invalidValue');
  if (col) return columnValue(col, def);
  if (!r.attr.multiValued) return typedValue(docAt(table, r.docPath), def);
  if (!r.sub) throw badRequest('invalidValue', `Cannot sort by '${path}'`);
  const arr = computedArray(kind, r) ?? docAt(table, r.docPath.slice(0, -1));
  return typedValue(firstElement(arr, def.name), def);
}
