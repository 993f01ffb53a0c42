import { badRequest } from '../errors.ts';
import type { FilterNode } from '../filter/ast.ts';
import { compileMatcher } from '../filter/match.ts';
import type { ResourceKind } from '../schemas/index.ts';
import { holderOf } from './document.ts';
import type { Target } from './patch-target.ts';
import type { ScimDoc, SetMode } from './types.ts';
import { isObject } from './util.ts';
import { coerceObject, coerceScalar, findSub, settlePrimary } from './values.ts';

/**
 * Operations on `attr[filter]` and `attr[filter].sub` (emails, phoneNumbers, addresses, …).
 * When nothing matches, add and replace create the value the filter describes (Entra:
 * `emails[type eq "work"].value` on a user without emails); remove answers 400 noTarget.
 */

type Element = Record<string, unknown>;

interface Selection {
  holder: Record<string, unknown>;
  list: Element[];
  matches: Element[];
}

function select(kind: ResourceKind, doc: ScimDoc, t: Target, create: boolean): Selection {
  const { attr, extension, schema } = t.resolved;
  // Compiled before looking at the data, so a bad filter is a 400 even on an empty list.
  const match = compileMatcher(t.filter!, kind, extension ? `${schema}:${attr.name}` : attr.name);
  const holder = holderOf(doc, t.resolved, create) ?? {};
  const current = holder[attr.name];
  const list = (Array.isArray(current) ? current : []).filter(isObject);
  return { holder, list, matches: list.filter((el) => match(el)) };
}

/** The sub-attributes a new value gets from the `eq` comparisons of an `and`-only filter. */
function describedBy(t: Target): Element {
  const out: Element = {};
  const walk = (node: FilterNode): void => {
    if (node.kind === 'and') {
      walk(node.left);
      walk(node.right);
      return;
    }
    const sub =
      node.kind === 'compare' && node.op === 'eq' ? findSub(t.resolved.attr, node.path) : undefined;
    if (!sub || node.kind !== 'compare' || node.value === null) {
      throw badRequest(
        'noTarget',
        `No value matches "${t.text}" and its filter does not describe a new one`,
      );
    }
    out[sub.name] = node.value;
  };
  walk(t.filter!);
  return out;
}

/** Appends the value the filter describes, merged with `extra`, and returns it. */
function create(sel: Selection, t: Target, extra: Element): Element {
  const el = coerceObject(t.resolved.attr, { ...describedBy(t), ...extra }, t.text) ?? {};
  sel.list.push(el);
  return el;
}

/** Drops `sub` from the matches (the whole value when `sub` is absent or is `value`). */
function dropFromMatches(sel: Selection, t: Target): void {
  const sub = t.subAttr?.name;
  const hasValue = findSub(t.resolved.attr, 'value') !== undefined;
  for (const m of sel.matches) if (sub !== undefined) delete m[sub];
  const gone = (el: Element) =>
    sel.matches.includes(el) &&
    (sub === undefined || Object.keys(el).length === 0 || (hasValue && el.value === undefined));
  sel.list = sel.list.filter((el) => !gone(el));
}

function write(sel: Selection, t: Target): void {
  const name = t.resolved.attr.name;
  if (sel.list.length === 0) delete sel.holder[name];
  else sel.holder[name] = sel.list;
}

function editSub(sel: Selection, t: Target, raw: unknown): Element[] {
  const sub = t.subAttr!;
  const value = coerceScalar(sub, raw, t.text);
  if (value === undefined) {
    dropFromMatches(sel, t);
    return [];
  }
  if (sel.matches.length === 0) return [create(sel, t, { [sub.name]: value })];
  for (const m of sel.matches) m[sub.name] = value;
  return sel.matches;
}

function editWhole(sel: Selection, t: Target, mode: SetMode, raw: unknown): Element[] {
  const single = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  const value = coerceObject(t.resolved.attr, single, t.text);
  if (value === undefined) {
    if (mode === 'replace') dropFromMatches(sel, t);
    return [];
  }
  if (sel.matches.length === 0) return [create(sel, t, value)];
  return sel.matches.map((m) => {
    const next = mode === 'replace' ? { ...value } : { ...m, ...value };
    sel.list[sel.list.indexOf(m)] = next;
    return next;
  });
}

/** add / replace on a filtered target; a `null` value unassigns what matches. */
export function editFiltered(
  kind: ResourceKind,
  doc: ScimDoc,
  t: Target,
  mode: SetMode,
  raw: unknown,
): void {
  const sel = select(kind, doc, t, true);
  const touched = t.subAttr ? editSub(sel, t, raw) : editWhole(sel, t, mode, raw);
  settlePrimary(sel.list, touched, t.text);
  write(sel, t);
}

/** remove on a filtered target: RFC 7644 §3.5.2.2, no match → 400 noTarget. */
export function removeFiltered(kind: ResourceKind, doc: ScimDoc, t: Target): void {
  const sel = select(kind, doc, t, false);
  if (sel.matches.length === 0) throw badRequest('noTarget', `No value matches "${t.text}"`);
  dropFromMatches(sel, t);
  write(sel, t);
}
