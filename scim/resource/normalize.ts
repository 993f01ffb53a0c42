import { badRequest } from '../errors.ts';
import { type ResolvedAttr, type ResourceKind, SCHEMA, type SchemaDef } from '../schemas/index.ts';
import { checkRequired, pathName, resolveLenient, schemasFor } from './document.ts';
import { isMembersAttr, normalizeMembers } from './members.ts';
import type { MemberRef, NormalizedResource, ScimDoc } from './types.ts';
import { getCI, isForbiddenKey, isObject } from './util.ts';
import { coerceAttr, coerceScalar, type MultiOptions } from './values.ts';

/**
 * The one place where what real clients send (INTEROP.md) becomes a clean stored document.
 * Unknown attributes and unknown schema URNs are dropped, readOnly input is ignored, `null`
 * means unassigned, and every value is coerced by its attribute definition.
 */

interface BuildState {
  kind: ResourceKind;
  doc: ScimDoc;
  /** Document paths already assigned, to refuse the same attribute given twice. */
  seen: string[];
  members?: MemberRef[];
  hasPassword: boolean;
}

/** True for attributes a client can never write: id, meta, users' groups, and their parts. */
export const isReadOnly = (resolved: ResolvedAttr) =>
  resolved.attr.mutability === 'readOnly' || resolved.sub?.mutability === 'readOnly';

/** The writeOnly `password` of the core User schema. */
export const isPassword = (resolved: ResolvedAttr) =>
  !resolved.extension && !resolved.sub && resolved.attr.mutability === 'writeOnly';

/**
 * Coerces a value for a resolved attribute path (whole attribute or `attr.sub`) in canonical
 * form; undefined means unassigned. Group `members` never reach here (see members.ts).
 */
export function normalizeAttributeValue(
  kind: ResourceKind,
  resolved: ResolvedAttr,
  value: unknown,
  opts: MultiOptions = {},
): unknown {
  const path = pathName(resolved);
  if (isMembersAttr(kind, resolved)) {
    throw badRequest('invalidPath', 'members are not part of the group document');
  }
  if (resolved.sub) return coerceScalar(resolved.sub, value, path);
  return coerceAttr(resolved.attr, value, path, opts);
}

function checkSchemas(kind: ResourceKind, body: Record<string, unknown>): void {
  const schemas = getCI(body, 'schemas');
  const core = kind.core.id.toLowerCase();
  if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === 'string')) {
    throw badRequest('invalidSyntax', `schemas must be an array holding "${kind.core.id}"`);
  }
  if (!schemas.some((s) => s.toLowerCase() === core)) {
    throw badRequest('invalidSyntax', `schemas must contain "${kind.core.id}"`);
  }
}

function markSeen(st: BuildState, resolved: ResolvedAttr): void {
  const key = resolved.docPath.join('\u0000');
  const clash = st.seen.find(
    (s) => s === key || s.startsWith(`${key}\u0000`) || key.startsWith(`${s}\u0000`),
  );
  if (clash !== undefined) {
    throw badRequest('invalidSyntax', `${pathName(resolved)} is given more than once`);
  }
  st.seen.push(key);
}

function setValue(doc: ScimDoc, resolved: ResolvedAttr, value: unknown): void {
  let target: Record<string, unknown> = doc;
  const path = resolved.docPath;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (isObject(next)) target = next;
    else {
      const fresh: Record<string, unknown> = {};
      target[key] = fresh;
      target = fresh;
    }
  }
  target[path[path.length - 1]!] = value;
}

function assignExtension(st: BuildState, ext: SchemaDef, value: unknown): void {
  if (value === null) return;
  if (!isObject(value)) {
    throw badRequest('invalidValue', `${ext.id}: expected an object, got ${JSON.stringify(value)}`);
  }
  for (const [key, v] of Object.entries(value)) assignKey(st, `${ext.id}:${key}`, v);
}

function assignPassword(st: BuildState, value: unknown): void {
  if (value === null) return;
  if (typeof value !== 'string') throw badRequest('invalidValue', 'password must be a string');
  st.hasPassword = value !== '';
}

function assignKey(st: BuildState, key: string, value: unknown): void {
  const { kind } = st;
  // Dotted / URN keys too (`name.__proto__`): refused, never silently dropped.
  if (/[.:]/.test(key) ? key.split(/[.:]/).some(isForbiddenKey) : isForbiddenKey(key)) {
    throw badRequest('invalidSyntax', `The key "${key}" is not allowed`);
  }
  const lower = key.toLowerCase();
  if (lower === 'schemas') return;
  const ext = kind.extensions.find((e) => e.id.toLowerCase() === lower);
  if (ext) {
    assignExtension(st, ext, value);
    return;
  }
  const resolved = resolveLenient(kind, key);
  // Unknown attributes and schemas (Entra's ADSCIM URN) are dropped, as are readOnly ones
  // (id, meta, groups) and `emails.value`-style keys that name no single value.
  if (!resolved || isReadOnly(resolved) || (resolved.sub && resolved.attr.multiValued)) return;
  markSeen(st, resolved);
  if (isMembersAttr(kind, resolved)) st.members = normalizeMembers(value);
  else if (isPassword(resolved)) assignPassword(st, value);
  else {
    const v = normalizeAttributeValue(kind, resolved, value);
    if (v !== undefined) setValue(st.doc, resolved, v);
  }
}

/**
 * PUT keeps a user's organisation when the body does not mention it (most clients know nothing
 * of the idhub extension; like `members` of a group, it is not theirs to clear by omission).
 * An explicit `null` unassigns.
 */
function keepOrganization(st: BuildState, current?: ScimDoc): void {
  const key = `${SCHEMA.idhubUser}\u0000organization`;
  if (st.seen.some((s) => s === key || s.startsWith(`${key}\u0000`))) return;
  const before = current?.[SCHEMA.idhubUser];
  const org = isObject(before) ? before.organization : undefined;
  if (org === undefined) return;
  const ext = isObject(st.doc[SCHEMA.idhubUser]) ? st.doc[SCHEMA.idhubUser] : {};
  st.doc[SCHEMA.idhubUser] = { ...(ext as Record<string, unknown>), organization: org };
}

/**
 * Turns a POST (`create`) or PUT (`replace`) body into a stored document. In replace mode an
 * absent `active` keeps `current.doc.active` (Okta PUTs without it must not deactivate);
 * `id` in the body is ignored whatever its value. Throws ScimError 400 on bad input.
 */
export function normalizeResource(
  kind: ResourceKind,
  body: unknown,
  mode: 'create' | 'replace',
  current?: { id: string; doc?: ScimDoc },
): NormalizedResource {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The body must be a JSON object');
  checkSchemas(kind, body);
  const st: BuildState = { kind, doc: {}, seen: [], hasPassword: false };
  for (const [key, value] of Object.entries(body)) assignKey(st, key, value);
  const previousActive = current?.doc?.active;
  if (mode === 'replace' && !st.seen.includes('active') && previousActive !== undefined) {
    st.doc.active = previousActive;
  }
  if (mode === 'replace' && kind.core.id === SCHEMA.user) keepOrganization(st, current?.doc);
  checkRequired(kind, st.doc);
  st.doc.schemas = schemasFor(kind, st.doc);
  const result: NormalizedResource = { doc: st.doc, hasPassword: st.hasPassword };
  if (st.members !== undefined) result.members = st.members;
  return result;
}
