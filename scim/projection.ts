import { badRequest } from './errors.ts';
import { type ResourceKind, resolveAttribute, splitUrn } from './schemas/index.ts';

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
  requestOnly: string[];
}

/** Parses `attributes`/`excludedAttributes` values against the kind; unknown names are a 400. */
export function compileProjection(kind: ResourceKind, p: Projection): CompiledProjection {
  // `returned: request` attributes (a user's `groups`) appear only when named in `attributes`.
  const requestOnly = kind.core.attributes
    .filter((a) => a.returned === 'request')
    .map((a) => a.name);
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

/** True when the projected output needs the computed `groups`/`members` attribute. */
export function wantsKey(proj: CompiledProjection, key: string): boolean {
  if (proj.include) return proj.include.has(key);
  if (proj.requestOnly.includes(key)) return false;
  if (proj.exclude) return proj.exclude.get(key) !== true;
  return true;
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
  if (proj.requestOnly.some((k) => k in resource)) {
    out = { ...resource };
    for (const k of proj.requestOnly) delete out[k];
  }
  return proj.exclude ? (drop(out, proj.exclude) as Record<string, unknown>) : out;
}
