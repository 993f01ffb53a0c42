import { badRequest } from '../errors.ts';
import type { FilterNode } from '../filter/ast.ts';
import { type ResolvedAttr, type ResourceKind, SCHEMA } from '../schemas/index.ts';
import type { MemberOp, MemberRef, PatchOpName } from './types.ts';
import { getCI, isObject } from './util.ts';

/**
 * Group membership is a table, not part of the document: everything that targets `members`
 * becomes a MemberRef list (POST/PUT) or a MemberOp (PATCH) here, and never touches `doc`.
 */

const invalid = (detail: string) => badRequest('invalidValue', detail);

/** True when a resolved attribute is the `members` attribute of the Group core schema. */
export function isMembersAttr(kind: ResourceKind, resolved: ResolvedAttr): boolean {
  return (
    kind.core.id === SCHEMA.group &&
    resolved.schema === SCHEMA.group &&
    resolved.attr.name === 'members'
  );
}

function memberType(raw: unknown, at: string): MemberRef['type'] {
  if (raw === undefined || raw === null) return undefined;
  const lower = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (lower === 'user') return 'User';
  if (lower === 'group') return 'Group';
  throw invalid(`${at}.type: expected "User" or "Group", got ${JSON.stringify(raw)}`);
}

function memberRef(raw: unknown, at: string): MemberRef {
  if (!isObject(raw)) throw invalid(`${at}: expected an object, got ${JSON.stringify(raw)}`);
  const value = getCI(raw, 'value');
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(`${at}.value: expected a member id, got ${JSON.stringify(value)}`);
  }
  const type = memberType(getCI(raw, 'type'), at);
  const ref: MemberRef = type ? { value, type } : { value };
  const label = getCI(raw, 'display') ?? getCI(raw, 'displayName');
  if (typeof label === 'string' && label.trim() && label.length <= 256 && !/\p{Cc}/u.test(label)) {
    ref.display = label;
  }
  return ref;
}

function asList(value: unknown, wrapObject: boolean): unknown[] {
  if (Array.isArray(value)) return value;
  if (wrapObject && isObject(value) && Object.keys(value).length > 0) return [value];
  throw invalid(`members: expected an array, got ${JSON.stringify(value)}`);
}

/**
 * Normalises a `members` value to `[{value, type?}]`, first occurrence of an id winning.
 * `$ref` (also `null`) is accepted and dropped, a `display` label kept; `null` means "no members".
 */
export function normalizeMembers(value: unknown, wrapObject = false): MemberRef[] {
  if (value === null) return [];
  const out = new Map<string, MemberRef>();
  for (const [i, raw] of asList(value, wrapObject).entries()) {
    const ref = memberRef(raw, `members[${i}]`);
    if (!out.has(ref.value)) out.set(ref.value, ref);
  }
  return [...out.values()];
}

const isValueAttr = (path: string) => {
  const lower = path.toLowerCase();
  return lower === 'value' || lower === 'members.value' || lower.endsWith(':group:members.value');
};

function collectIds(node: FilterNode, out: Set<string>): void {
  if (node.kind === 'or') {
    collectIds(node.left, out);
    collectIds(node.right, out);
    return;
  }
  if (node.kind === 'compare' && node.op === 'eq' && isValueAttr(node.path)) {
    if (typeof node.value === 'string') {
      out.add(node.value);
      return;
    }
  }
  throw badRequest(
    'invalidFilter',
    'A members filter may only compare value with eq, joined by or: members[value eq "id"]',
  );
}

/** The ids named by `members[value eq "a" or value eq "b"]`; any other filter is a 400. */
export function memberIdsFromFilter(filter: FilterNode): string[] {
  const out = new Set<string>();
  collectIds(filter, out);
  return [...out];
}

/**
 * The MemberOp for one PATCH operation on `members` (path without filter, or a no-path value
 * key), or undefined when it changes nothing (an empty add / remove list).
 */
export function memberOpForValue(op: PatchOpName, value: unknown): MemberOp | undefined {
  if (op === 'remove') {
    // Entra legacy: remove with a value removes only the listed members.
    if (value === undefined || value === null) return { kind: 'clear' };
    const ids = normalizeMembers(value, true).map((m) => m.value);
    return ids.length === 0 ? undefined : { kind: 'remove', ids };
  }
  const members = normalizeMembers(value, true);
  if (op === 'replace')
    return members.length === 0 ? { kind: 'clear' } : { kind: 'replace', members };
  return members.length === 0 ? undefined : { kind: 'add', members };
}

/** members.value, members.type, members.$ref are immutable, members.display readOnly. */
export const memberValuesImmutable = () =>
  badRequest('mutability', 'Member values are immutable: add, replace or remove whole members');

/** The MemberOp for `members[value eq "id" ...]`: remove only; a non-member is a no-op later. */
export function memberOpForFilter(op: PatchOpName, filter: FilterNode, subAttr?: string): MemberOp {
  if (op !== 'remove' || subAttr !== undefined) throw memberValuesImmutable();
  return { kind: 'remove', ids: memberIdsFromFilter(filter) };
}
