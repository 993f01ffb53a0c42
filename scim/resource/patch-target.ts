import { badRequest } from '../errors.ts';
import type { FilterNode, PatchPath } from '../filter/ast.ts';
import { parsePatchPath } from '../filter/parse.ts';
import type { AttributeDef, ResolvedAttr, ResourceKind } from '../schemas/index.ts';
import { resolveLenient } from './document.ts';
import { isMembersAttr } from './members.ts';
import { isForbiddenKey } from './util.ts';
import { findSub } from './values.ts';

/** A PATCH path resolved against a resource kind. */
export interface Target {
  /** The path as written, for messages. */
  text: string;
  /** The attribute, or `attr.sub` for a dotted path such as `name.givenName`. */
  resolved: ResolvedAttr;
  /** Value filter of `emails[type eq "work"]`; its paths are sub-attributes. */
  filter?: FilterNode;
  /** Sub-attribute after the filter: `emails[type eq "work"].value`. */
  subAttr?: AttributeDef;
  /** Group `members`: handled as MemberOps, never in the document. */
  members: boolean;
}

const invalidPath = (text: string, why: string) =>
  badRequest('invalidPath', `Invalid path "${text}": ${why}`);

const mutability = (text: string, why: string) =>
  badRequest('mutability', `Cannot modify "${text}": ${why}`);

function checkForbidden(path: PatchPath, text: string): void {
  const parts = [...path.path.split(/[.:]/), path.subAttr ?? ''];
  if (parts.some(isForbiddenKey)) throw invalidPath(text, 'forbidden attribute name');
}

function checkShape(t: Target): void {
  const { attr, sub } = t.resolved;
  if (t.filter && (sub || !attr.multiValued || attr.type !== 'complex')) {
    throw invalidPath(t.text, 'a value filter needs a multi-valued complex attribute');
  }
  if (!t.filter && sub && attr.multiValued && !t.members) {
    throw invalidPath(
      t.text,
      `select the values with a filter: ${attr.name}[type eq "work"].${sub.name}`,
    );
  }
}

function checkMutability(t: Target): void {
  const defs = [t.resolved.attr, t.resolved.sub, t.subAttr];
  if (defs.some((d) => d?.mutability === 'readOnly')) {
    throw mutability(t.text, 'the attribute is readOnly');
  }
}

/**
 * Resolves a parsed PATCH path. Unknown attributes are a 400 invalidPath (or undefined with
 * `unknown: 'skip'`, used for the keys of a no-path value); readOnly targets a 400 mutability.
 */
export function resolveTarget(
  kind: ResourceKind,
  path: PatchPath,
  text: string,
  unknown: 'throw' | 'skip' = 'throw',
): Target | undefined {
  checkForbidden(path, text);
  const resolved = resolveLenient(kind, path.path);
  const subAttr =
    resolved && path.subAttr !== undefined ? findSub(resolved.attr, path.subAttr) : undefined;
  if (!resolved || (path.subAttr !== undefined && !subAttr)) {
    if (unknown === 'skip') return undefined;
    throw invalidPath(text, `unknown attribute for ${kind.type.name}`);
  }
  const target: Target = { text, resolved, members: isMembersAttr(kind, resolved) };
  if (path.filter) target.filter = path.filter;
  if (subAttr) target.subAttr = subAttr;
  checkShape(target);
  if (!target.members) checkMutability(target);
  return target;
}

/** A no-path value key ("name.givenName", "urn:…:User:department") as a target, if known. */
export function targetForKey(kind: ResourceKind, key: string): Target | undefined {
  // Also `name.__proto__`: it does not parse as a path, but must not be silently ignored.
  if (key.split(/[.:]/).some(isForbiddenKey)) throw invalidPath(key, 'forbidden attribute name');
  let path: PatchPath;
  try {
    path = parsePatchPath(key);
  } catch {
    return undefined; // not an attribute path at all, so not a known attribute: ignored
  }
  return resolveTarget(kind, path, key, 'skip');
}
