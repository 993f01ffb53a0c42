import { type SQL, sql } from 'drizzle-orm';
import { badRequest } from '../errors.ts';
import type { ResolvedAttr, ResourceKind } from '../schemas/index.ts';
import type { FilterNode } from './ast.ts';
import { toOperand } from './operand.ts';
import { comparedAttr, resolveFilterPath } from './resolve.ts';
import { type Accessor, comparePred, type Pred, polarity, presentPred } from './sql-leaf.ts';
import {
  columnAccessor,
  computedArray,
  docAt,
  ELEMENT,
  elementsExists,
  isMembership,
  jsonAt,
  membershipAccessor,
  membershipExists,
  type ResourceTable,
} from './sql-targets.ts';

export { compileSortKey } from './sort.ts';
export type { ResourceTable } from './sql-targets.ts';

/** Where the paths of the node being compiled are resolved. */
type Scope =
  | { at: 'resource' }
  /** Inside `attr[...]` of a JSON attribute: paths are sub-attributes of `elem`. */
  | { at: 'element'; base: string; elem: SQL }
  /** Inside `members[...]` / `groups[...]`: paths are columns of group_members. */
  | { at: 'membership'; base: string };

interface Ctx {
  kind: ResourceKind;
  table: ResourceTable;
  scope: Scope;
}

type Leaf = FilterNode & { kind: 'compare' | 'present' };

/**
 * Compiles a filter tree into one SQL boolean over `table` (columns qualified as
 * "users"."doc" …), with every literal a bound parameter. Unknown attributes and
 * operator/type mismatches are 400 invalidFilter; nothing compiles to "match everything".
 * Negations are pushed to the leaves so absent attributes (SQL NULL) negate correctly.
 */
export function compileFilter(node: FilterNode, kind: ResourceKind, table: ResourceTable): SQL {
  return compileNode(node, { kind, table, scope: { at: 'resource' } }, false);
}

function compileNode(node: FilterNode, ctx: Ctx, negated: boolean): SQL {
  switch (node.kind) {
    case 'and':
    case 'or': {
      // De Morgan: not (a and b) = not a or not b.
      const joiner = (node.kind === 'and') !== negated ? sql` and ` : sql` or `;
      const left = compileNode(node.left, ctx, negated);
      const right = compileNode(node.right, ctx, negated);
      return sql`(${left}${joiner}${right})`;
    }
    case 'not':
      return compileNode(node.filter, ctx, !negated);
    case 'valuePath':
      return polarity(valuePath(node, ctx), negated);
    default:
      return compileLeaf(node, ctx, negated);
  }
}

/**
 * A leaf's positive predicate plus its polarity: `ne` is "not eq", `eq null` is "not pr",
 * and an enclosing `not` flips it once more.
 */
function compileLeaf(node: Leaf, ctx: Ctx, negated: boolean): SQL {
  const base = ctx.scope.at === 'resource' ? undefined : ctx.scope.base;
  const resolved = resolveFilterPath(ctx.kind, node.path, base);
  if (node.kind === 'present') return polarity(locate(resolved, ctx, presentPred), negated);
  const r = comparedAttr(resolved);
  const operand = toOperand(r.sub ?? r.attr, node.op, node.value, node.path);
  if (operand.type === 'absent') {
    return polarity(locate(r, ctx, presentPred), negated === operand.negate);
  }
  return polarity(
    locate(r, ctx, (acc) => comparePred(acc, operand)),
    negated !== operand.negate,
  );
}

/** Finds where a resolved attribute is stored and builds `test` on it there. */
function locate(r: ResolvedAttr, ctx: Ctx, test: (acc: Accessor) => Pred): Pred {
  const { kind, table, scope } = ctx;
  const sub = r.sub?.name ?? 'value';
  if (scope.at === 'element') return test({ kind: 'json', expr: jsonAt(scope.elem, [sub]) });
  if (scope.at === 'membership') return test(membershipAccessor(kind, sub, 'invalidFilter'));
  if (isMembership(kind, r)) {
    const where =
      r.sub || r.attr.type !== 'complex'
        ? test(membershipAccessor(kind, sub, 'invalidFilter'))
        : undefined;
    return { sql: membershipExists(kind, table, where?.sql), nullable: false };
  }
  const col = columnAccessor(kind, table, r, 'invalidFilter');
  if (col) return test(col);
  if (!r.attr.multiValued) return test({ kind: 'json', expr: docAt(table, r.docPath) });
  const arr = computedArray(kind, r) ?? docAt(table, r.docPath.slice(0, r.sub ? -1 : undefined));
  const elem = r.sub ? jsonAt(ELEMENT, [r.sub.name]) : ELEMENT;
  return { sql: elementsExists(arr, test({ kind: 'json', expr: elem }).sql), nullable: false };
}

/**
 * `attr[filter]`: for a multi-valued attribute, one element must satisfy the whole inner
 * filter (EXISTS); for a singular complex attribute the inner filter applies to the object.
 */
function valuePath(node: FilterNode & { kind: 'valuePath' }, ctx: Ctx): Pred {
  if (ctx.scope.at !== 'resource') {
    throw badRequest('invalidFilter', 'Value paths cannot be nested');
  }
  const r = resolveFilterPath(ctx.kind, node.path);
  if (r.sub || r.attr.type !== 'complex') {
    throw badRequest('invalidFilter', `'${node.path}[...]' needs a complex attribute`);
  }
  if (isMembership(ctx.kind, r)) {
    const scope: Scope = { at: 'membership', base: node.path };
    const inner = compileNode(node.filter, { ...ctx, scope }, false);
    return { sql: membershipExists(ctx.kind, ctx.table, inner), nullable: false };
  }
  const doc = computedArray(ctx.kind, r) ?? docAt(ctx.table, r.docPath);
  if (!r.attr.multiValued) {
    const scope: Scope = { at: 'element', base: node.path, elem: doc };
    return { sql: compileNode(node.filter, { ...ctx, scope }, false), nullable: true };
  }
  const scope: Scope = { at: 'element', base: node.path, elem: ELEMENT };
  return {
    sql: elementsExists(doc, compileNode(node.filter, { ...ctx, scope }, false)),
    nullable: false,
  };
}
