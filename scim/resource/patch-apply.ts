import { badRequest } from '../errors.ts';
import type { ResourceKind } from '../schemas/index.ts';
import { holderOf } from './document.ts';
import { normalizeAttributeValue } from './normalize.ts';
import { editFiltered, removeFiltered } from './patch-filtered.ts';
import type { Target } from './patch-target.ts';
import type { ScimDoc, SetMode } from './types.ts';
import { deepEqual, isObject } from './util.ts';
import { coerceObject, findSub, settlePrimary } from './values.ts';

/**
 * add / replace / remove of one resolved target on a working copy of the document
 * (RFC 7644 §3.5.2.1–3). Filtered targets (`emails[type eq "work"]`) live in
 * patch-filtered.ts; group members never come here.
 */

const mutability = (t: Target, why: string) =>
  badRequest('mutability', `Cannot modify "${t.text}": ${why}`);

/** RFC 7643 §2.2: an immutable attribute may be set once, then never changed. */
function checkImmutable(t: Target, current: unknown, next: unknown): void {
  const def = t.resolved.sub ?? t.resolved.attr;
  if (def.mutability !== 'immutable' || current === undefined) return;
  if (!deepEqual(current, next)) throw mutability(t, 'the attribute is immutable');
}

function setMulti(
  holder: Record<string, unknown>,
  t: Target,
  mode: SetMode,
  incoming: unknown[],
): void {
  const name = t.resolved.attr.name;
  const existing = Array.isArray(holder[name]) ? (holder[name] as unknown[]) : [];
  const list = mode === 'replace' ? [] : existing;
  const added = incoming.filter((v) => !list.some((e) => deepEqual(e, v)));
  list.push(...added);
  settlePrimary(list, added, t.text);
  holder[name] = list;
}

/**
 * The current value of a complex singular that a write of `incoming` builds on. A new `value`
 * names another resource (manager), so the old `$ref` / `displayName` no longer apply.
 */
function baseFor(current: unknown, incoming: Record<string, unknown>): Record<string, unknown> {
  if (!isObject(current)) return {};
  return 'value' in incoming && incoming.value !== current.value ? {} : current;
}

/** Complex singular: the given sub-attributes replace or add, the others stay (§3.5.2.3). */
function mergeComplex(holder: Record<string, unknown>, t: Target, incoming: unknown): void {
  const name = t.resolved.attr.name;
  const fresh = incoming as Record<string, unknown>;
  holder[name] = { ...baseFor(holder[name], fresh), ...fresh };
}

function setSub(holder: Record<string, unknown>, t: Target, value: unknown): void {
  const { attr, sub } = t.resolved;
  const parent = baseFor(holder[attr.name], value === undefined ? {} : { [sub!.name]: value });
  checkImmutable(t, parent[sub!.name], value);
  if (value === undefined) delete parent[sub!.name];
  else parent[sub!.name] = value;
  holder[attr.name] = parent;
}

/** `null`, "" or [] given to add/replace: unassigns, except that adding nothing is a no-op. */
function unassign(kind: ResourceKind, doc: ScimDoc, t: Target, mode: SetMode): void {
  const { attr } = t.resolved;
  if (attr.required) throw badRequest('invalidValue', `${t.text} is required and cannot be empty`);
  if (mode === 'add' && attr.multiValued) return;
  removeTarget(kind, doc, t);
}

/** add or replace with a path (no filter). A `null` value unassigns the target. */
export function setTarget(
  kind: ResourceKind,
  doc: ScimDoc,
  t: Target,
  mode: SetMode,
  raw: unknown,
): void {
  if (t.filter) {
    editFiltered(kind, doc, t, mode, raw);
    return;
  }
  const value = normalizeAttributeValue(kind, t.resolved, raw, { wrapObject: true });
  const holder = holderOf(doc, t.resolved, true)!;
  const { attr, sub } = t.resolved;
  if (sub) setSub(holder, t, value);
  else if (value === undefined) unassign(kind, doc, t, mode);
  else if (attr.multiValued) setMulti(holder, t, mode, value as unknown[]);
  else {
    checkImmutable(t, holder[attr.name], value);
    if (attr.type === 'complex') mergeComplex(holder, t, value);
    else holder[attr.name] = value;
  }
}

/** Removes the values of a multi-valued attribute equal to the given ones on their keys. */
function removeListed(holder: Record<string, unknown>, t: Target, raw: unknown): void {
  const { attr } = t.resolved;
  const list = holder[attr.name];
  if (!Array.isArray(list)) return;
  const items = (Array.isArray(raw) ? raw : [raw])
    .map((r) => coerceObject(attr, r, t.text))
    .filter((r) => r !== undefined);
  const same = (key: string, a: unknown, b: unknown) =>
    typeof a === 'string' && typeof b === 'string' && !findSub(attr, key)?.caseExact
      ? a.toLowerCase() === b.toLowerCase()
      : a === b;
  const hit = (el: unknown) =>
    isObject(el) && items.some((item) => Object.entries(item).every(([k, v]) => same(k, el[k], v)));
  holder[attr.name] = list.filter((el) => !hit(el));
}

/**
 * remove with a path. Removing an absent attribute is a no-op; a required attribute
 * (userName, displayName) cannot be removed (400 mutability). With `value` on a multi-valued
 * attribute only the listed values go (the Entra legacy shape, also used for emails).
 */
export function removeTarget(kind: ResourceKind, doc: ScimDoc, t: Target, value?: unknown): void {
  if (t.filter) {
    removeFiltered(kind, doc, t);
    return;
  }
  const { attr, sub } = t.resolved;
  if (!sub && attr.required) throw mutability(t, 'the attribute is required');
  const holder = holderOf(doc, t.resolved, false);
  if (!holder || holder[attr.name] === undefined) return;
  if (sub) setSub(holder, t, undefined);
  else if (attr.multiValued && value !== undefined && value !== null) {
    removeListed(holder, t, value);
  } else {
    checkImmutable(t, holder[attr.name], undefined);
    delete holder[attr.name];
  }
}
