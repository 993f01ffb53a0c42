import { badRequest } from '../errors.ts';
import type { AttributeDef } from '../schemas/index.ts';
import { deepEqual, isObject } from './util.ts';

/**
 * Value coercion by attribute definition, shared by POST/PUT normalisation and PATCH.
 * Every function returns `undefined` for "unassigned" (null, "", [], {}), which callers
 * turn into an absent key: empty values are never stored.
 */

const invalid = (path: string, why: string) => badRequest('invalidValue', `${path}: ${why}`);

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Finds a sub-attribute by name, case-insensitively (Entra sends `Value`, `Type`, `Primary`). */
export function findSub(def: AttributeDef, name: string): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return def.subAttributes?.find((s) => s.name.toLowerCase() === lower);
}

function coerceString(def: AttributeDef, value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  // Lenient for plain strings only (employeeNumber: 1234); never for references or binaries.
  if (def.type === 'string' && typeof value === 'number' && Number.isFinite(value)) {
    return String(value);
  }
  throw invalid(path, `expected a string, got ${JSON.stringify(value)}`);
}

/** "True" / "false" in any case (Entra legacy, OneLogin); never `Boolean("False")`. */
function coerceBoolean(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw invalid(path, `expected a boolean, got ${JSON.stringify(value)}`);
}

function coerceNumber(def: AttributeDef, value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(path, `expected a number, got ${JSON.stringify(value)}`);
  }
  if (def.type === 'integer' && !Number.isInteger(value)) {
    throw invalid(path, `expected an integer, got ${value}`);
  }
  return value;
}

function coerceDateTime(value: unknown, path: string): string {
  if (typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) {
    return value;
  }
  throw invalid(path, `expected an xsd:dateTime, got ${JSON.stringify(value)}`);
}

/** Coerces a value of a simple (non-complex) attribute or sub-attribute. */
export function coerceScalar(def: AttributeDef, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case 'boolean':
      return coerceBoolean(value, path);
    case 'integer':
    case 'decimal':
      return coerceNumber(def, value, path);
    case 'dateTime':
      return coerceDateTime(value, path);
    case 'complex':
      throw invalid(path, 'a complex value is not allowed here');
    default:
      return coerceString(def, value, path);
  }
}

/**
 * One complex value: sub-attribute names matched case-insensitively and written in canonical
 * case; unknown and readOnly sub-attributes dropped (clients echo `display`, `$ref: null`).
 */
export function coerceObject(
  def: AttributeDef,
  value: unknown,
  path: string,
): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) throw invalid(path, `expected an object, got ${JSON.stringify(value)}`);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const sub = findSub(def, key);
    if (!sub || sub.mutability === 'readOnly') continue;
    if (Object.hasOwn(out, sub.name)) {
      throw badRequest('invalidSyntax', `${path}: "${sub.name}" is given twice`);
    }
    const v = coerceScalar(sub, raw, `${path}.${sub.name}`);
    if (v !== undefined) out[sub.name] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * A singular complex value, with the shapes Entra sends for `manager`: a bare string becomes
 * `{value}` and a one-element array becomes its element.
 */
function coerceSingularComplex(def: AttributeDef, value: unknown, path: string): unknown {
  if (typeof value === 'string' && findSub(def, 'value')) {
    return value === '' ? undefined : coerceObject(def, { value }, path);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.length > 1) throw invalid(path, 'a single value is expected, got an array');
    return coerceObject(def, value[0], path);
  }
  return coerceObject(def, value, path);
}

export interface MultiOptions {
  /** Accept one object where an array is expected (PATCH values); never a scalar. */
  wrapObject?: boolean;
}

/** A multi-valued attribute: an array, identical values collapsed, at most one primary. */
export function coerceMulti(
  def: AttributeDef,
  value: unknown,
  path: string,
  opts: MultiOptions = {},
): unknown[] | undefined {
  if (value === null || value === undefined) return undefined;
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (opts.wrapObject && isObject(value) && Object.keys(value).length > 0) list = [value];
  else throw invalid(path, `expected an array, got ${JSON.stringify(value)}`);
  const out: unknown[] = [];
  for (const [i, raw] of list.entries()) {
    const at = `${path}[${i}]`;
    const v = def.type === 'complex' ? coerceObject(def, raw, at) : coerceScalar(def, raw, at);
    if (v !== undefined && !out.some((o) => deepEqual(o, v))) out.push(v);
  }
  checkSinglePrimary(out, path);
  return out.length === 0 ? undefined : out;
}

/** RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once. */
export function checkSinglePrimary(list: unknown[], path: string): void {
  const primaries = list.filter((v) => isObject(v) && v.primary === true).length;
  if (primaries > 1) throw invalid(path, 'more than one value is marked primary');
}

/** Coerces the whole value of an attribute (not a sub-attribute) by its definition. */
export function coerceAttr(
  def: AttributeDef,
  value: unknown,
  path: string,
  opts: MultiOptions = {},
): unknown {
  if (def.multiValued) return coerceMulti(def, value, path, opts);
  if (def.type === 'complex') return coerceSingularComplex(def, value, path);
  return coerceScalar(def, value, path);
}

/**
 * RFC 7644 §3.5.2: setting one value primary makes the others non-primary. `touched` are the
 * values this operation wrote; more than one of them primary is a 400.
 */
export function settlePrimary(list: unknown[], touched: unknown[], path: string): void {
  const fresh = touched.filter((v) => isObject(v) && v.primary === true);
  if (fresh.length > 1) throw badRequest('invalidValue', `${path}: more than one value is primary`);
  if (fresh.length === 0) return;
  for (const v of list) if (isObject(v) && v !== fresh[0] && v.primary === true) delete v.primary;
}
