/**
 * Test-only translation between our FilterNode and scimmy's filter representation, so the
 * peer fixtures in ../shared/peer-suites/scimmy-fixtures/types__filter.json can check us.
 *
 * scimmy keeps a filter in disjunctive normal form: an array (OR) of objects (AND), keyed by
 * attribute name with the first letter lower-cased; nested objects for sub-attributes and
 * value filters; a leaf is [op, value], ["pr"], ["not", op, value] or a list of those.
 */
import type { CompareOp, FilterNode, FilterValue } from './ast.ts';

type Expr = unknown[];
interface Literal {
  keys: string[];
  expr: Expr;
}
type Conj = Literal[];

/** Thrown for trees scimmy's representation cannot express (a negated value filter). */
export class Unrepresentable extends Error {}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const keysOf = (path: string) => path.split('.').map(lowerFirst);

function cross(a: Conj[], b: Conj[]): Conj[] {
  return a.flatMap((x) => b.map((y) => [...x, ...y]));
}

/** Our tree → DNF with negations pushed to the leaves (correct De Morgan). */
function dnf(node: FilterNode, neg: boolean, prefix: string[]): Conj[] {
  switch (node.kind) {
    case 'compare': {
      const expr = [node.op, node.value];
      return [[{ keys: [...prefix, ...keysOf(node.path)], expr: neg ? ['not', ...expr] : expr }]];
    }
    case 'present':
      return [[{ keys: [...prefix, ...keysOf(node.path)], expr: neg ? ['not', 'pr'] : ['pr'] }]];
    case 'not':
      return dnf(node.filter, !neg, prefix);
    case 'valuePath':
      if (neg) throw new Unrepresentable('negated value filter');
      return dnf(node.filter, false, [...prefix, ...keysOf(node.path)]);
    default: {
      const l = dnf(node.left, neg, prefix);
      const r = dnf(node.right, neg, prefix);
      return (node.kind === 'and') !== neg ? cross(l, r) : [...l, ...r];
    }
  }
}

function place(target: Record<string, unknown>, { keys, expr }: Literal): void {
  const last = keys.length - 1;
  let obj = target;
  for (const key of keys.slice(0, last)) {
    obj[key] ??= {};
    obj = obj[key] as Record<string, unknown>;
  }
  const key = keys[last] as string;
  const prev = obj[key] as Expr | undefined;
  if (prev === undefined) obj[key] = expr;
  else obj[key] = Array.isArray(prev[0]) ? [...prev, expr] : [prev, expr];
}

/** Our tree in scimmy's representation. */
export function toScimmy(node: FilterNode): Record<string, unknown>[] {
  return dnf(node, false, []).map((conj) => {
    const out: Record<string, unknown> = {};
    for (const lit of conj) place(out, lit);
    return out;
  });
}

/** scimmy's match expressions → our tree; undefined for forms outside RFC 7644. */
export function fromScimmy(expr: unknown): FilterNode | undefined {
  const conjs = Array.isArray(expr) ? expr : [expr];
  const nodes = conjs.map((c) => conjunction(c as Record<string, unknown>, undefined));
  if (nodes.some((n) => n === undefined)) return undefined;
  return (nodes as FilterNode[]).reduce((left, right) => ({ kind: 'or', left, right }));
}

function conjunction(
  obj: Record<string, unknown>,
  base: string | undefined,
): FilterNode | undefined {
  const parts = Object.entries(obj).map(([key, value]) => entry(key, value, base));
  if (parts.length === 0 || parts.some((n) => n === undefined)) return undefined;
  return (parts as FilterNode[]).reduce((left, right) => ({ kind: 'and', left, right }));
}

function entry(key: string, value: unknown, base: string | undefined): FilterNode | undefined {
  if (!Array.isArray(value)) {
    if (base !== undefined) return undefined;
    const inner = conjunction(value as Record<string, unknown>, key);
    return inner && { kind: 'valuePath', path: key, filter: inner };
  }
  if (Array.isArray(value[0])) {
    const all = value.map((e) => leaf(key, e as unknown[]));
    if (all.some((n) => n === undefined)) return undefined;
    return (all as FilterNode[]).reduce((left, right) => ({ kind: 'and', left, right }));
  }
  return leaf(key, value);
}

const OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

function leaf(path: string, expr: unknown[]): FilterNode | undefined {
  const [head, ...rest] = expr;
  if (typeof head !== 'string') return undefined;
  const op = head.toLowerCase();
  if (op === 'not') {
    const inner = leaf(path, rest);
    return inner && { kind: 'not', filter: inner };
  }
  if (op === 'pr') return { kind: 'present', path };
  if (!OPS.has(op)) return undefined;
  return { kind: 'compare', path, op: op as CompareOp, value: rest[0] as FilterValue };
}
