import { badRequest } from './errors.ts';
import { type ResourceKind, resolveAttribute, SCHEMA, splitUrn } from './schemas/index.ts';
import type { ComputedSet } from './store/computed.ts';

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

/** A selection: top-level key (or extension URN) → whole value, or a nested selection. */
type Selection = Map<string, true | Selection>;

function addPath(kind: ResourceKind, sel: Selection, path: string): void {
  // `schemas` is on every resource (RFC 7643 §3) though no schema defines it; always returned.
  if (path.toLowerCase() === 'schemas') return;
  const { urn, rest } = splitUrn(kind, path);
  if (urn === '') throw badRequest('invalidValue', `unknown attribute "${path}"`);
  if (urn && rest === '') {
    if (urn === kind.core.id) return;
    sel.set(urn, true);
    return;
  }
  const r = resolveAttribute(kind, path);
  if (!r) throw badRequest('invalidValue', `unknown attribute "${path}"`);
  let cur = sel;
  const keys = r.docPath;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i === keys.length - 1) {
      cur.set(k, true);
      break;
    }
    const next = cur.get(k);
    if (next === true) return;
    const child: Selection = next ?? new Map();
    cur.set(k, child);
    cur = child;
  }
}

/** Names that are always returned whatever is asked (RFC 7643 §7 `returned: always`). */
const ALWAYS = new Set(['id', 'schemas']);

function pick(value: unknown, sel: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, sel)).filter((v) => v !== undefined);
  if (!value || typeof value !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, s] of sel) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const picked = s === true ? v : pick(v, s);
    if (
      picked !== undefined &&
      !(typeof picked === 'object' && picked && Object.keys(picked).length === 0)
    ) {
      out[k] = picked;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

function drop(value: unknown, sel: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => drop(v, sel));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, s] of sel) {
    if (ALWAYS.has(k)) continue;
    if (s === true) delete out[k];
    else if (out[k] !== undefined) out[k] = drop(out[k], s);
  }
  return out;
}

export interface CompiledProjection {
  include?: Selection;
  exclude?: Selection;
  /** Document paths of `returned: request` attributes: [name] or [extension URN, name]. */
  requestOnly: string[][];
}

/** Parses `attributes`/`excludedAttributes` values against the kind; unknown names are a 400. */
export function compileProjection(kind: ResourceKind, p: Projection): CompiledProjection {
  // `returned: request` attributes (a user's `groups`) appear only when named in `attributes`.
  const requestOnly = [
    ...kind.core.attributes.filter((a) => a.returned === 'request').map((a) => [a.name]),
    ...kind.extensions.flatMap((e) =>
      e.attributes.filter((a) => a.returned === 'request').map((a) => [e.id, a.name]),
    ),
  ];
  const result: CompiledProjection = { requestOnly };
  if (p.attributes?.length) {
    result.include = new Map();
    for (const a of p.attributes) addPath(kind, result.include, a);
  }
  if (p.excludedAttributes?.length) {
    result.exclude = new Map();
    for (const a of p.excludedAttributes) addPath(kind, result.exclude, a);
  }
  return result;
}

const samePath = (a: string[], b: string[]) =>
  a.length === b.length && a.every((k, i) => k === b[i]);

/** The selection at `path`: true when the path or one of its parents is selected whole. */
function selects(sel: Selection, path: string[]): boolean {
  let cur: Selection = sel;
  for (const k of path) {
    const next = cur.get(k);
    if (next === undefined) return false;
    if (next === true) return true;
    cur = next;
  }
  return true;
}

/** True when the projected output needs the attribute at a document path (to compute it). */
export function wantsPath(proj: CompiledProjection, path: string[]): boolean {
  if (proj.include) return selects(proj.include, path);
  if (proj.requestOnly.some((p) => samePath(p, path))) return false;
  if (proj.exclude) return !selects(proj.exclude, path);
  return true;
}

/** True when the projected output needs the computed `groups`/`members` attribute. */
export const wantsKey = (proj: CompiledProjection, key: string): boolean => wantsPath(proj, [key]);

/** A user's optional computed attributes that the projected output needs. */
export function computedSet(kind: ResourceKind, proj: CompiledProjection): ComputedSet | undefined {
  if (kind.core.id !== SCHEMA.user) return undefined;
  return {
    roles: wantsPath(proj, ['roles']),
    x509Certificates: wantsPath(proj, ['x509Certificates']),
    accounts: wantsPath(proj, [SCHEMA.idhubUser, 'accounts']),
    credentials: wantsPath(proj, [SCHEMA.idhubUser, 'credentials']),
  };
}

/** Deletes the attribute at a document path from a copy of `resource`. */
function without(resource: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const [head, ...rest] = path as [string, ...string[]];
  if (!(head in resource)) return resource;
  const out = { ...resource };
  const inner = out[head];
  if (rest.length === 0) delete out[head];
  else if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
    const next = without(inner as Record<string, unknown>, rest);
    if (Object.keys(next).length) out[head] = next;
    else delete out[head];
  }
  return out;
}

/** Applies a projection to a rendered resource. `attributes` wins over `excludedAttributes`. */
export function applyProjection(
  resource: Record<string, unknown>,
  proj: CompiledProjection,
): Record<string, unknown> {
  if (proj.include) {
    const picked = (pick(resource, proj.include) ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = { schemas: resource.schemas, id: resource.id };
    for (const [k, v] of Object.entries(picked)) if (!ALWAYS.has(k)) out[k] = v;
    return out;
  }
  let out = resource;
  for (const p of proj.requestOnly) out = without(out, p);
  return proj.exclude ? (drop(out, proj.exclude) as Record<string, unknown>) : out;
}
