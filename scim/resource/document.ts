import { badRequest } from '../errors.ts';
import { type ResolvedAttr, type ResourceKind, resolveAttribute } from '../schemas/index.ts';
import type { ScimDoc } from './types.ts';
import { codePointLength, deepEqual, hasControlChar, isObject } from './util.ts';

/** Longest userName / group displayName accepted, in code points. */
export const MAX_NAME_LENGTH = 256;

/**
 * The object that holds an attribute in the stored document: the document itself for core
 * attributes, `doc[urn]` for extension attributes (created on demand when `create`).
 */
export function holderOf(
  doc: ScimDoc,
  resolved: ResolvedAttr,
  create: boolean,
): Record<string, unknown> | undefined {
  if (!resolved.extension) return doc;
  const current = doc[resolved.schema];
  if (isObject(current)) return current;
  if (!create) return undefined;
  const fresh: Record<string, unknown> = {};
  doc[resolved.schema] = fresh;
  return fresh;
}

/** Deletes empty complex values and empty extension objects left behind by edits. */
export function pruneEmpty(doc: ScimDoc, kind: ResourceKind): void {
  const prune = (obj: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined || v === null) delete obj[k];
      else if (Array.isArray(v) && v.length === 0) delete obj[k];
      else if (isObject(v) && Object.keys(v).length === 0) delete obj[k];
    }
  };
  for (const ext of kind.extensions) {
    const value = doc[ext.id];
    if (isObject(value)) prune(value);
  }
  prune(doc);
}

/** `schemas` of a document: the core URN plus each extension that holds data. */
export function schemasFor(kind: ResourceKind, doc: ScimDoc): string[] {
  const used = kind.extensions.filter((e) => {
    const value = doc[e.id];
    return isObject(value) && Object.keys(value).length > 0;
  });
  return [kind.core.id, ...used.map((e) => e.id)];
}

/** userName and group displayName: present, not blank, not over-long, no control characters. */
function checkName(name: string, value: unknown): void {
  if (value === undefined) throw badRequest('invalidValue', `${name} is required`);
  if (typeof value !== 'string' || value.trim() === '') {
    throw badRequest('invalidValue', `${name} must be a non-blank string`);
  }
  if (codePointLength(value) > MAX_NAME_LENGTH) {
    throw badRequest('invalidValue', `${name} is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (hasControlChar(value)) {
    throw badRequest('invalidValue', `${name} must not contain control characters`);
  }
}

/**
 * externalId is a btree-indexed column: PostgreSQL refuses an index entry over ~2.7 kB, which
 * would be a 500. Real ids (GUIDs, Okta ids, DNs) are far shorter.
 */
export const MAX_EXTERNAL_ID_BYTES = 1024;

/**
 * Checks the core schema's required attributes (userName for users, displayName for groups)
 * and the size of externalId. With `before`, an attribute left unchanged is not re-checked,
 * so a PATCH of some other attribute never fails on data imported before these rules existed.
 */
export function checkRequired(kind: ResourceKind, doc: ScimDoc, before?: ScimDoc): void {
  for (const attr of kind.core.attributes) {
    if (!attr.required) continue;
    const value = doc[attr.name];
    if (before && deepEqual(value, before[attr.name])) continue;
    checkName(attr.name, value);
  }
  const ext = doc.externalId;
  const changed = !before || ext !== before.externalId;
  if (changed && typeof ext === 'string' && Buffer.byteLength(ext) > MAX_EXTERNAL_ID_BYTES) {
    throw badRequest('invalidValue', `externalId is longer than ${MAX_EXTERNAL_ID_BYTES} bytes`);
  }
}

/** The document without `schemas`, for change detection. */
export function withoutSchemas(doc: ScimDoc): ScimDoc {
  const { schemas: _ignored, ...rest } = doc;
  return rest;
}

/**
 * resolveAttribute, plus Entra's unqualified extension names: `manager` alone names the
 * enterprise `manager` when no core attribute has that name and exactly one extension does.
 */
export function resolveLenient(kind: ResourceKind, path: string): ResolvedAttr | undefined {
  let cache = resolved.get(kind);
  if (!cache) {
    cache = new Map();
    resolved.set(kind, cache);
  }
  if (cache.has(path)) return cache.get(path);
  const hit = resolveUncached(kind, path);
  // Keys come from clients: the cache is bounded (a flood of distinct keys only empties it).
  if (cache.size >= RESOLVED_CACHE_SIZE) cache.clear();
  cache.set(path, hit);
  return hit;
}

/** Resolutions are pure functions of kind and path, and read on every attribute of every write. */
const resolved = new WeakMap<ResourceKind, Map<string, ResolvedAttr | undefined>>();
const RESOLVED_CACHE_SIZE = 1024;

function resolveUncached(kind: ResourceKind, path: string): ResolvedAttr | undefined {
  const direct = resolveAttribute(kind, path);
  if (direct || path.toLowerCase().startsWith('urn:')) return direct;
  // Only the standard (urn:ietf) extensions: idhub's own `organization` must not make the
  // enterprise `organization` ambiguous for clients that leave the URN off.
  const hits = kind.extensions
    .filter((e) => e.id.startsWith('urn:ietf:'))
    .map((e) => resolveAttribute(kind, `${e.id}:${path}`))
    .filter((r) => r !== undefined);
  return hits.length === 1 ? hits[0] : undefined;
}

/** A printable name for an attribute path in error messages. */
export function pathName(resolved: ResolvedAttr): string {
  const [first, ...rest] = resolved.docPath;
  return resolved.extension ? `${first}:${rest.join('.')}` : resolved.docPath.join('.');
}
