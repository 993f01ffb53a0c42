import { badRequest } from '../errors.ts';
import type { ResourceKind } from '../schemas/index.ts';
import type { FilterNode } from './ast.ts';
import { type Operand, parseDateLiteral, toOperand } from './operand.ts';
import { comparedAttr, resolveFilterPath } from './resolve.ts';

/** A filter bound to a kind: every attribute already resolved and every literal checked. */
export type Matcher = (obj: unknown) => boolean;

/**
 * Builds an in-memory predicate for a filter. All resolution and type checks happen here,
 * once, so an unknown attribute is a 400 even in a branch the data never reaches (an `or`
 * short-circuit, a value filter over an empty array). With `basePath` ("emails",
 * "members"), `obj` is one element of that attribute and the filter's paths are its
 * sub-attributes — how the PATCH engine selects `emails[type eq "work"]`.
 */
export function compileMatcher(node: FilterNode, kind: ResourceKind, basePath?: string): Matcher {
  switch (node.kind) {
    case 'and': {
      const [l, r] = [
        compileMatcher(node.left, kind, basePath),
        compileMatcher(node.right, kind, basePath),
      ];
      return (o) => l(o) && r(o);
    }
    case 'or': {
      const [l, r] = [
        compileMatcher(node.left, kind, basePath),
        compileMatcher(node.right, kind, basePath),
      ];
      return (o) => l(o) || r(o);
    }
    case 'not': {
      const inner = compileMatcher(node.filter, kind, basePath);
      return (o) => !inner(o);
    }
    case 'present': {
      const keys = keyPath(resolveFilterPath(kind, node.path, basePath).docPath, basePath);
      return (o) => valuesAt(o, keys).some(isPresent);
    }
    case 'compare': {
      const r = comparedAttr(resolveFilterPath(kind, node.path, basePath));
      const operand = toOperand(r.sub ?? r.attr, node.op, node.value, node.path);
      const keys = keyPath(r.docPath, basePath);
      return (o) => evaluate(operand, valuesAt(o, keys));
    }
    case 'valuePath':
      return valuePathMatcher(node, kind, basePath);
  }
}

function valuePathMatcher(
  node: FilterNode & { kind: 'valuePath' },
  kind: ResourceKind,
  basePath: string | undefined,
): Matcher {
  if (basePath !== undefined) throw badRequest('invalidFilter', 'Value paths cannot be nested');
  const r = resolveFilterPath(kind, node.path);
  if (r.sub || r.attr.type !== 'complex') {
    throw badRequest('invalidFilter', `'${node.path}[...]' needs a complex attribute`);
  }
  const inner = compileMatcher(node.filter, kind, node.path);
  return (o) => valuesAt(o, r.docPath).some((el) => isObject(el) && inner(el));
}

/**
 * Evaluates a filter against one JSON object (see compileMatcher for `basePath`).
 * Case sensitivity follows each attribute's caseExact; dates compare as instants;
 * a multi-valued attribute matches when any element does; `ne` is "not eq".
 */
export function matchFilter(
  node: FilterNode,
  obj: unknown,
  kind: ResourceKind,
  basePath?: string,
): boolean {
  return compileMatcher(node, kind, basePath)(obj);
}

/** Inside a value filter the object is the element: only the last key (the sub-attribute). */
const keyPath = (docPath: string[], basePath: string | undefined) =>
  basePath === undefined ? docPath : docPath.slice(-1);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Own property by name, exact case first, then case-insensitively (RFC 7643 §2.1). */
function own(o: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(o, key)) return o[key];
  const lower = key.toLowerCase();
  const found = Object.keys(o).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : o[found];
}

/** All values at a key path, stepping through arrays (multi-valued attributes) on the way. */
function valuesAt(root: unknown, keys: string[]): unknown[] {
  let current: unknown[] = [root];
  for (const key of keys) {
    current = current
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter(isObject)
      .map((o) => own(o, key));
  }
  return current
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .filter((v) => v !== undefined && v !== null);
}

/** RFC 7644 "pr": has a non-empty value (not null, "", [] or {}). */
export function isPresent(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Applies a checked comparison to an attribute's values: any value may satisfy it. */
export function evaluate(operand: Operand, values: unknown[]): boolean {
  if (operand.type === 'absent') {
    const present = values.some(isPresent);
    return operand.negate ? present : !present;
  }
  const hit = values.some((v) => test(operand, v));
  return operand.negate ? !hit : hit;
}

function test(operand: Exclude<Operand, { type: 'absent' }>, v: unknown): boolean {
  switch (operand.type) {
    case 'boolean':
      return v === operand.value;
    case 'number':
      return typeof v === 'number' && order(operand.op, v - operand.value);
    case 'date': {
      const d = typeof v === 'string' ? parseDateLiteral(v) : undefined;
      return d !== undefined && order(operand.op, d.ms - operand.ms);
    }
    case 'string':
      return typeof v === 'string' && testString(operand, v);
  }
}

function testString(operand: Operand & { type: 'string' }, raw: string): boolean {
  const v = operand.caseExact ? raw : raw.toLowerCase();
  const x = operand.caseExact ? operand.value : operand.value.toLowerCase();
  switch (operand.op) {
    case 'co':
      return v.includes(x);
    case 'sw':
      return v.startsWith(x);
    case 'ew':
      return v.endsWith(x);
    default:
      return order(operand.op, v < x ? -1 : v > x ? 1 : 0);
  }
}

function order(op: 'eq' | 'gt' | 'ge' | 'lt' | 'le', diff: number): boolean {
  if (op === 'eq') return diff === 0;
  if (op === 'gt') return diff > 0;
  if (op === 'ge') return diff >= 0;
  if (op === 'lt') return diff < 0;
  return diff <= 0;
}
