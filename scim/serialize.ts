import { type AttributeDef, type ResourceKind, SCHEMA } from './schemas/index.ts';
import type { ResourceRow } from './store/types.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A complex singular reference to another resource type gets its `$ref` from its `value`. */
function withRef(a: AttributeDef, v: unknown, base: string): unknown {
  const type = a.subAttributes?.find((s) => s.name === '$ref')?.referenceTypes?.[0];
  if (a.multiValued || type !== 'Organization' || !isObj(v) || typeof v.value !== 'string')
    return v;
  const { value, ...rest } = v;
  return { value, $ref: `${base}/${type}s/${value}`, ...rest };
}

/**
 * Attributes of one schema: stored values, except readOnly attributes, which the hub computes
 * (a document may still hold roles written before they were computed: never shown).
 */
function mergeAttrs(attrs: AttributeDef[], stored: Obj, computed: Obj, base: string): Obj {
  const out: Obj = { ...stored };
  for (const a of attrs) {
    const own = a.mutability === 'readOnly' ? undefined : stored[a.name];
    const extra = computed[a.name];
    const v = isObj(own) && isObj(extra) ? { ...own, ...extra } : (extra ?? own);
    if (v === undefined) delete out[a.name];
    else out[a.name] = withRef(a, v, base);
  }
  return out;
}

/** The stored document with the computed attributes of the row merged in. */
function withComputed(kind: ResourceKind, stored: Obj, computed: Obj, base: string): Obj {
  const doc = mergeAttrs(kind.core.attributes, stored, computed, base);
  for (const e of kind.extensions) {
    const own = isObj(stored[e.id]) ? (stored[e.id] as Obj) : {};
    const extra = isObj(computed[e.id]) ? (computed[e.id] as Obj) : {};
    const ext = mergeAttrs(e.attributes, own, extra, base);
    if (Object.keys(ext).length) doc[e.id] = ext;
    else delete doc[e.id];
  }
  return doc;
}

export const etagOf = (version: number) => `W/"${version}"`;

/**
 * Renders a stored row as a SCIM resource: schemas from the extensions present, id,
 * externalId, the document, the computed references, and meta. No nulls are emitted.
 */
export function renderResource(
  kind: ResourceKind,
  row: ResourceRow,
  base: string,
): Record<string, unknown> {
  const { schemas: _ignored, ...stored } = row.doc;
  const doc = withComputed(kind, stored, row.computed ?? {}, base);
  const schemas = [
    kind.core.id,
    ...kind.extensions.filter((e) => doc[e.id] !== undefined).map((e) => e.id),
  ];
  const out: Record<string, unknown> = { schemas, id: row.id };
  if (row.externalId) out.externalId = row.externalId;
  // Schema order reads naturally (userName first); jsonb keeps keys in its own order.
  for (const a of kind.core.attributes) if (doc[a.name] !== undefined) out[a.name] = doc[a.name];
  for (const e of kind.extensions) if (doc[e.id] !== undefined) out[e.id] = doc[e.id];
  if (row.related && kind.core.id !== SCHEMA.organization) {
    const key = kind.core.id === SCHEMA.group ? 'members' : 'groups';
    const refType = kind.core.id === SCHEMA.group ? null : 'Groups';
    if (row.related.length) {
      out[key] = row.related.map((r) => {
        const ref: Record<string, unknown> = { value: r.value };
        const endpoint = refType ?? (r.type === 'Group' ? 'Groups' : 'Users');
        ref.$ref = `${base}/${endpoint}/${r.value}`;
        if (r.display) ref.display = r.display;
        ref.type = r.type;
        return ref;
      });
    }
  }
  out.meta = {
    resourceType: kind.type.name,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
    location: `${base}${kind.type.endpoint}/${row.id}`,
    version: etagOf(row.version),
  };
  return out;
}
